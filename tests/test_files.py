"The HUMAN_NUMBERS files on disk, and fastai finding them offline, each in a fresh interpreter."
import hashlib
from pathlib import Path

NO_NET = '''
import socket
def _no_net(*a, **k): raise RuntimeError("network use attempted")
socket.socket.connect = _no_net
socket.create_connection = _no_net
'''

def test_files_byte_exact(run_py, tmp_path):
    home = tmp_path/'home'
    out = run_py('from humannums.data import human_numbers_path; print(human_numbers_path())', home=home).stdout.strip()
    path = Path(out)
    assert path == home/'data'/'human_numbers'
    train, valid = (path/'train.txt').read_bytes(), (path/'valid.txt').read_bytes()
    assert (len(train), len(valid)) == (280_599, 74_884)
    assert hashlib.sha256(train).hexdigest() == '194a5defcc1e77a1697d94422744f1b8552ddf5ad7f31e9c84cc1956014c16bf'
    assert hashlib.sha256(valid).hexdigest() == '3a3e30cd8eddcd27477ef232bd07bc5d12b34b1ceec6295c607f0faff793ed5e'
    lines = train.decode().split('\n')
    assert lines[0] == 'one ' and lines[-2] == 'seven thousand nine hundred ninety nine ' and lines[-1] == ''
    assert valid.decode().startswith('eight thousand one \n')
    assert b'eight thousand \n' not in train + valid

def test_untar_data_offline(run_py, tmp_path):
    "After human_numbers_path(), fastai's untar_data returns the folder without touching the network"
    home = tmp_path/'home'
    made = run_py('from humannums.data import human_numbers_path; print(human_numbers_path())', home=home).stdout.strip()
    res = run_py(NO_NET + 'from fastai.text.all import *; print(untar_data(URLs.HUMAN_NUMBERS))', home=home)
    assert res.stdout.strip() == made
    assert sorted(p.name for p in Path(made).iterdir()) == ['train.txt', 'valid.txt']

def test_interrupted_write_leaves_nothing(run_py, tmp_path):
    "A write that fails half-way leaves neither a temp file nor a damaged target"
    home = tmp_path/'home'
    res = run_py('''
import os
from humannums import data
def boom(*a): raise KeyboardInterrupt
os.replace = boom  # the rename that ends every atomic write (humannums.files)
try: data.human_numbers_path()
except KeyboardInterrupt: print('interrupted')
''', home=home)
    assert 'interrupted' in res.stdout
    folder = home/'data'/'human_numbers'
    assert list(folder.iterdir()) == []
    # and the next call completes the folder
    run_py('from humannums.data import human_numbers_path; human_numbers_path()', home=home)
    assert sorted(p.name for p in folder.iterdir()) == ['train.txt', 'valid.txt']

def test_unwritable_home_names_folder(run_py, tmp_path):
    blocker = tmp_path/'not_a_folder'
    blocker.write_text('x')
    res = run_py('from humannums.data import human_numbers_path; human_numbers_path()', home=blocker, check=False)
    assert res.returncode != 0
    assert 'not_a_folder' in res.stderr and 'FASTAI_HOME' in res.stderr
    assert 'Traceback' in res.stderr  # it is an exception (OSError) for library users
    assert 'OSError: cannot write the HUMAN_NUMBERS files' in res.stderr
