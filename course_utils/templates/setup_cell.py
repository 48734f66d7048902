# Setup — run this cell first. On Colab it installs the course package; everywhere it
# fetches the data this notebook needs and says which processor and run mode it uses.
import importlib.util
import subprocess
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("course_utils") is None:
    print("Installing the course package (a minute or two, once per Colab session) ...")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "$requirement"],
                   check=True)
    importlib.invalidate_caches()

import course_utils
from course_utils.data import DatasetUnavailable, dataset_dir

course_utils.setup("$notebook")
for name in "$datasets".split():
    try:
        print(f"Data '{name}': {dataset_dir(name)}")
    except DatasetUnavailable as exc:
        print(f"Data '{name}' is not available here ({exc}). The notebook says below what it "
              f"uses instead; `course-utils data fetch {name}` gets the real data.")
