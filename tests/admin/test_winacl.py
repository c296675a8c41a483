"""Issue 18 point 23: the Windows site file's ACL, judged from real security descriptors (SDDL as
Windows reports them), and the MSI that creates the folder with that ACL."""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from archpal_desktop.core import winacl

WXS = Path(__file__).resolve().parents[2] / "packaging" / "windows" / "archpal.wxs"
NS = {"w": "http://wixtoolset.org/schemas/v4/wxs"}
#: the ACL the MSI sets (and what Windows then reports for the folder and the file in it)
MSI_FOLDER = "O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)"
MSI_FILE = "O:BAG:SYD:AI(A;ID;FA;;;SY)(A;ID;FA;;;BA)(A;ID;0x1200a9;;;BU)"
#: a folder made by hand under %ProgramData%: what it inherits (Users may add files there)
PROGRAMDATA_DEFAULT = ("O:BAG:SYD:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;0x1200a9;;;BU)"
                       "(A;CIID;DCLCRPCR;;;BU)(A;OICIIOID;GA;;;CO)")


def test_the_msis_acl_is_accepted():
    assert winacl.write_problem(MSI_FILE, MSI_FOLDER) is None
    assert winacl.write_problem(None, MSI_FOLDER) is None  # no file yet: the folder is judged


def test_a_hand_made_programdata_folder_is_refused():
    problem = winacl.write_problem(MSI_FILE, PROGRAMDATA_DEFAULT)
    assert problem == "Users can change its folder"


@pytest.mark.parametrize("ace, who", [
    ("(A;;FA;;;BU)", "Users"), ("(A;;0x1201bf;;;WD)", "Everyone"),  # modify rights
    ("(A;;FW;;;AU)", "Authenticated Users"), ("(A;;WD;;;BU)", "Users"),  # may rewrite the ACL
    ("(A;;GW;;;S-1-5-21-1-2-3-1001)", "S-1-5-21-1-2-3-1001"),  # one local user
])
def test_a_file_others_can_write_is_refused(ace, who):
    problem = winacl.write_problem("O:BAG:SYD:P(A;;FA;;;SY)(A;;FA;;;BA)" + ace, MSI_FOLDER)
    assert problem == f"{who} can change the file"


def test_owner_null_dacl_and_garbage():
    owned = "O:S-1-5-21-1-2-3-1001G:SYD:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FR;;;BU)"
    assert winacl.write_problem(owned, MSI_FOLDER) == "the file is owned by S-1-5-21-1-2-3-1001"
    assert "Everyone" in winacl.write_problem("O:BAD:NO_ACCESS_CONTROL", MSI_FOLDER)
    assert "could not be read" in winacl.write_problem("O:BAD:P(A;;ZZ;;;BU)", MSI_FOLDER)
    assert "could not be read" in winacl.write_problem("O:BA", MSI_FOLDER)
    # read-only and inherit-only entries for others are fine
    assert winacl.write_problem("O:BAD:P(A;;FA;;;BA)(A;;FR;;;WD)(A;OICIIO;GA;;;CO)", MSI_FOLDER) is None


def test_off_windows_the_posix_checks_apply(tmp_path):
    if os.name == "nt":
        pytest.skip("Windows reads the real ACL")
    assert winacl.site_file_problem(tmp_path / "config.toml") is None


def test_site_file_problem_reads_the_file_and_its_folder(tmp_path):
    """The loader's entry point, fed the descriptors Windows would report (the reader is the
    one part that needs Windows)."""
    site = tmp_path / "ArchPal" / "config.toml"
    acls = {site: MSI_FILE, site.parent: MSI_FOLDER}
    assert winacl.site_file_problem(site, read=acls.get, windows=True) is None
    acls[site.parent] = PROGRAMDATA_DEFAULT
    problem = winacl.site_file_problem(site, read=acls.get, windows=True)
    assert problem.startswith("Users can change its folder (only Administrators and SYSTEM")

    def unreadable(path):
        raise PermissionError(5, "Access is denied")
    assert "could not be read (Access is denied)" in winacl.site_file_problem(
        site, read=unreadable, windows=True)


def test_the_settings_loader_refuses_a_site_file_users_can_change(tmp_path, monkeypatch):
    """paths.file_trust_problem (what config.load_settings asks of the site file) uses the check
    above on Windows; before, its hook returned None and every site file was obeyed."""
    from archpal_desktop.core import paths
    site = tmp_path / "ArchPal" / "config.toml"
    site.parent.mkdir()
    site.write_text("[managed]\nbucket = 'x'\n")
    acls = {site: MSI_FILE, site.parent: MSI_FOLDER}
    # the descriptor reader is the one part that needs Windows; both modules are told they run
    # there (their own ``os`` only: pathlib must go on making this system's paths)
    monkeypatch.setattr(winacl, "read_sddl", acls.get)
    windows_os = type("WindowsOs", (), {"name": "nt", "__getattr__": lambda self, a: getattr(os, a)})()
    monkeypatch.setattr(paths, "os", windows_os)
    monkeypatch.setattr(winacl, "os", windows_os)
    assert paths.file_trust_problem(site, site=True) is None
    acls[site.parent] = PROGRAMDATA_DEFAULT
    problem = paths.file_trust_problem(site, site=True)
    assert problem is not None and problem.startswith("Users can change its folder")
    assert paths.file_trust_problem(site, site=False) is None   # user files live in the profile


def test_the_msi_always_creates_the_site_folder_with_that_acl():
    root = ET.parse(WXS).getroot()
    data = root.find(".//w:StandardDirectory[@Id='CommonAppDataFolder']", NS)
    folder = data.find("w:Directory", NS)
    assert folder.get("Name") == "ArchPal"
    comp = root.find(f".//w:Component[@Directory='{folder.get('Id')}']", NS)
    assert comp is not None and comp.get("Permanent") == "yes"
    perm = comp.find("w:CreateFolder/w:PermissionEx", NS)
    sddl = perm.get("Sddl")
    assert sddl == MSI_FOLDER
    assert "D:P" in sddl  # protected: nothing inherited from %ProgramData%
    assert winacl.write_problem(None, sddl) is None
    # in the one feature, with no condition: every install creates it
    refs = [r.get("Id") for r in root.iterfind(".//w:Feature/w:ComponentRef", NS)]
    assert comp.get("Id") in refs
    assert comp.find("w:Condition", NS) is None and comp.get("Condition") is None
