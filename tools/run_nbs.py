#!/usr/bin/env python
"""Execute the notebook series, saving executed copies with their outputs to --out.

Each notebook runs in a real Jupyter kernel (nbclient with this environment's ipykernel, the kernel JupyterLab
gives the notebooks), or with --engine execnb in execnb's CaptureShell, the way `nbdev_test` (`make test`) runs
them. Notebooks run --jobs at a time (default: one per core), each with one torch thread: the models are small
enough that a second thread barely helps one notebook, while a second notebook beside it uses the other core
fully. One thread also keeps the arithmetic, and so every figure, the same on machines with any number of cores
of the same kind of CPU. Each notebook's final `nbdev_export()` cell is skipped, as `nbdev_test` skips it."""
import argparse, os, sys, tempfile, time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from fastcore.parallel import num_cpus  # the cores this process may use

ENGINES = ('jupyter', 'execnb')
KERNEL = 'python3'  # the notebooks' kernel: in this environment's Jupyter, this environment's python (sys.executable)

def skipped(cell) -> bool:
    "Cells not run: notebooks running side by side would rewrite the modules under each other's imports (`make export` exports them)"
    return cell.cell_type == 'code' and 'nbdev_export(' in cell.source

def _run_execnb(f:Path, out:Path):
    from execnb.shell import CaptureShell
    os.chdir(f.parent)
    sh = CaptureShell(f)
    try: sh.execute(f, out/f.name, exc_stop=True, preproc=skipped)
    except Exception as e: return f'{sh.prettytb(fname=f)}\n{f.name} failed: {e}'

def _run_jupyter(f:Path, out:Path):
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError
    from traitlets.config import Config
    class Client(NotebookClient):
        async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
            if skipped(cell): cell.outputs, cell.execution_count = [], None; return cell
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
    nb = nbformat.read(f, as_version=4)
    # The kernel talks over Unix sockets in a folder of its own, not TCP ports: with TCP, jupyter_client picks free
    # ports by binding and releasing them, and a kernel started at the same moment by another worker can take one
    # first ("Address already in use", "Kernel died before replying to kernel_info"). Sockets in a private folder
    # can't collide, and nothing travels over the network.
    with tempfile.TemporaryDirectory(prefix='hnk-') as sockets:
        config = Config({'KernelManager': {'transport': 'ipc', 'ip': f'{sockets}/k'}})
        client = Client(nb, kernel_name=KERNEL, timeout=None, startup_timeout=180, config=config,
                        resources={'metadata': {'path': str(f.parent)}})  # the kernel starts in the notebook's folder
        try: client.execute()
        except (CellExecutionError, DeadKernelError) as e: return f'{e}\n{f.name} failed: {type(e).__name__}'
    nbformat.write(nb, out/f.name)

def run_one(f:Path, out:Path, engine:str='jupyter'):
    "Execute notebook `f` with `engine`, write the executed copy into `out`; (name, seconds, error or None)"
    t = time.time()
    err = (_run_execnb if engine == 'execnb' else _run_jupyter)(f, out)
    return f.name, time.time() - t, err

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', default='reproduce/notebooks', help='folder for the executed notebooks (default: reproduce/notebooks)')
    p.add_argument('--jobs', type=int, default=num_cpus(), help='notebooks at a time (default: one per core)')
    p.add_argument('--engine', choices=ENGINES, default='jupyter',
                   help="jupyter: a real Jupyter kernel (nbclient + ipykernel, default); execnb: nbdev_test's CaptureShell")
    p.add_argument('nbs', nargs='*', help='notebooks to run (default: every nbs/*.ipynb but index)')
    a = p.parse_args()
    if a.jobs < 1: p.error(f'--jobs must be at least 1, got {a.jobs}')
    root = Path(__file__).resolve().parent.parent
    nbs = [Path(o).resolve() for o in a.nbs] or sorted(f for f in (root/'nbs').glob('[0-9]*.ipynb'))
    if missing := [str(f) for f in nbs if not f.is_file()]: p.error(f'no such notebook: {", ".join(missing)}')
    out = Path(a.out).resolve(); out.mkdir(parents=True, exist_ok=True)
    os.environ['OMP_NUM_THREADS'] = '1'  # read by torch when each worker (execnb) or kernel (jupyter) imports it
    os.environ.setdefault('PYDEVD_DISABLE_FILE_VALIDATION', '1')  # the kernel's debugger, silent about frozen modules
    total, failed = time.time(), []
    # longest first (the numbering is roughly the order of cost), so no long notebook starts last
    order = sorted(nbs, key=lambda f: f.name, reverse=a.jobs > 1)
    import run_nbs  # this file as a module: the workers must find `run_one` after IPython has replaced `__main__`
    with ProcessPoolExecutor(a.jobs) as ex:
        for fut in as_completed([ex.submit(run_nbs.run_one, f, out, a.engine) for f in order]):
            name, secs, err = fut.result()
            if err: failed.append(name); print(err, file=sys.stderr)
            print(f'{name:28s} {secs:6.1f}s{"  FAILED" if err else ""}', flush=True)
    print(f'{"all notebooks":28s} {time.time()-total:6.1f}s with {a.jobs} at a time ({a.engine}); executed copies in {out}')
    if failed: sys.exit(f'failed: {", ".join(sorted(failed))}')

if __name__ == '__main__': main()
