# Build ArchPal.msi on a Windows machine with Python 3.11 and the .NET SDK.
# Not runnable on the Linux CI machine; .github/workflows/release.yml runs it on windows-latest.
$ErrorActionPreference = "Stop"
$root = Resolve-Path "$PSScriptRoot\..\.."
Set-Location $root
python -m pip install -e ".[dev]" pillow
python packaging\build_app.py
if ($LASTEXITCODE -ne 0) { throw "build_app failed" }
dotnet tool install --global wix --version 5.0.2
wix extension add --global WixToolset.Util.wixext/5.0.2
$version = python -c "import archpal_desktop; print(archpal_desktop.__version__)"
# Windows wants an .ico: PyInstaller made one from the PNG with Pillow; make our own for the MSI
python -c "from PIL import Image; Image.open('resources/icons/archpal-256.png').save('build/archpal.ico')"
wix build packaging\windows\archpal.wxs -arch x64 -ext WixToolset.Util.wixext `
    -d Version=$version -d BundleDir=build\dist\archpal-desktop -d IconFile=build\archpal.ico `
    -o "build\ArchPal-$version-x64.msi"
if ($LASTEXITCODE -ne 0) { throw "wix build failed" }
# Smoke test on the runner: silent install with site values, self-test, uninstall
$msi = "build\ArchPal-$version-x64.msi"
Start-Process msiexec -Wait -ArgumentList "/i `"$msi`" /qn /l*v build\install.log REGION=us-east-1 BUCKET=archpal-ci-bucket USER_POOL_ID=us-east-1_Ci123 CLIENT_ID=ciclient123 ALLOWED_DOMAINS=example.edu"
Get-Content "$env:ProgramData\ArchPal\config.toml"
& "$env:ProgramFiles\ArchPal\archpal-desktop.exe" --self-test
if ($LASTEXITCODE -ne 0) { throw "self-test failed" }
Start-Process msiexec -Wait -ArgumentList "/x `"$msi`" /qn"
