from basebench.cli import main

raise SystemExit(main())
