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

course_utils.setup("$notebook", datasets="$datasets".split())
