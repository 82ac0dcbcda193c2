"""The kernel's named random streams: every stream of every replicate (and of every owner) is seeded,
streams are distinct, and a stream's numbers depend on its key, not on its place in the table."""
from __future__ import annotations

import numpy as np
import pytest

from sim.engines.kernel import rng


def test_stream_index_literals_are_their_positions_in_the_table():
    literals = {"age": rng.AGE, "retire": rng.RETIRE, "leave": rng.LEAVE, "rotate": rng.ROTATE,
                "recruit": rng.RECRUIT, "train": rng.TRAIN, "employ": rng.EMPLOY, "schedule": rng.SCHEDULE, "migrate": rng.MIGRATE,
                "return": rng.RETURN, "cell": rng.CELL}
    assert literals == rng.STREAM
    assert rng.N_STREAMS == len(rng.STREAMS)


def test_stream_names_and_keys_are_unique():
    names = [name for name, _ in rng.STREAMS]
    keys = [key for _, key in rng.STREAMS]
    assert len(set(names)) == len(names)
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("seed", [0, 1, 2**63 + 5])
def test_every_stream_of_every_replicate_is_seeded_and_distinct(seed):
    s = rng.stream_states(seed, range(40))
    assert s.shape == (40, rng.N_STREAMS, 4)
    assert (s != 0).any(axis=2).all(), "an all-zero xoshiro state draws 0 for ever"
    flat = s.reshape(-1, 4)
    assert len({tuple(r) for r in flat}) == flat.shape[0]
    # and so are the owners' streams split from them (jumps of a seeded state)
    owners = rng.owner_streams(s[7], 9, rng.JUMP)
    assert (owners != 0).any(axis=2).all()
    assert len({tuple(r) for r in owners.reshape(-1, 4)}) == 9 * rng.N_STREAMS


def test_a_stream_is_seeded_by_its_key_not_its_position(monkeypatch):
    """Reordering the table, or adding a stream, leaves every stream's numbers as they were."""
    before = rng.stream_states(3, [0, 5])
    by_name = {name: before[:, i] for i, (name, _) in enumerate(rng.STREAMS)}
    monkeypatch.setattr(rng, "STREAMS", (("new", 99),) + tuple(reversed(rng.STREAMS)))
    monkeypatch.setattr(rng, "N_STREAMS", len(rng.STREAMS))
    after = rng.stream_states(3, [0, 5])
    assert after.shape[1] == len(by_name) + 1
    for i, (name, _) in enumerate(rng.STREAMS):
        if name != "new":
            np.testing.assert_array_equal(after[:, i], by_name[name], err_msg=name)
    assert (after[:, 0] != 0).any(axis=1).all()


def test_the_numbers_of_a_replicate_do_not_depend_on_the_others():
    np.testing.assert_array_equal(rng.stream_states(5, [2])[0], rng.stream_states(5, range(4))[2])
