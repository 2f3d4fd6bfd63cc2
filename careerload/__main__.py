import sys

from careerload.cli import main

sys.exit(main())
