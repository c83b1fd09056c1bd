import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent

@pytest.fixture
def run_py(tmp_path):
    "Run Python code in a fresh interpreter with FASTAI_HOME in a temp folder; returns CompletedProcess"
    def _run(code, home=None, check=True):
        env = dict(os.environ, FASTAI_HOME=str(home or tmp_path/'fastai_home'))
        res = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env, cwd=tmp_path)
        if check: assert res.returncode == 0, res.stderr
        return res
    return _run
