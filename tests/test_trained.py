"The models in trained/ that notebooks 10, 11 and 13 load: each is the registry's recipe of today, and scores what its table says"
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent

@pytest.fixture(scope='module')
def zoo():
    import torch
    torch.set_num_threads(1)
    from humannums import cache
    return cache  # the trained-model cache (`21_cache`)

def test_trained_folder_holds_exactly_the_loaded_models(zoo):
    assert sorted(p.name for p in (ROOT/'trained').iterdir()) == sorted(zoo.trained_path('.', n).name for n in zoo.TRAINED)

@pytest.mark.parametrize('name', ['awd_gru', 'transformer', 'transformer_pointer', 'awd', 'rnn4', 'w2d',
                                  'w2d_plain', 'd2w', 'd2w_plain', 'w2d_plain_random'])
def test_trained_file_is_current_and_scores_its_table(zoo, name):
    assert name in zoo.TRAINED
    learn = zoo.trained(name, ROOT/'trained')
    assert learn.run_info.loaded_from == zoo.trained_path(ROOT/'trained', name), \
        f"trained/{name}-seed42.safetensors is missing or out of date: run `make models` and commit trained/"
    epochs = zoo.model_summary(name)[1]
    assert learn.run_info.seed == 42 and len(learn.recorder.values) == epochs
    _, valid_loss, metric = learn.recorder.values[-1]
    loss, score = learn.validate()
    assert loss == pytest.approx(valid_loss, abs=1e-5) and score == pytest.approx(metric, abs=1e-6)
