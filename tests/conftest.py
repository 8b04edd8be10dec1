import sys
from pathlib import Path

# test helper modules (reference_data.py) live in this folder
sys.path.insert(0, str(Path(__file__).resolve().parent))
