import sys

from reawaken.cli import main

sys.exit(main())
