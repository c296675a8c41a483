from archpal_desktop.cli import main

raise SystemExit(main())
