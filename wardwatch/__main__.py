import sys

from wardwatch.cli import main

sys.exit(main())
