"""Ctrl-C (a real SIGINT sent to this process) while a thread starts is raised after the
start, so no started thread is left unknown to its executor."""

from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor

import pytest

from gencomp.signals import ctrl_c_deferred


def test_a_ctrl_c_inside_the_block_is_raised_after_it() -> None:
    steps = []
    with pytest.raises(KeyboardInterrupt):
        with ctrl_c_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            steps.append("after the signal")
    assert steps == ["after the signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_threads_started_while_deferred_are_all_known_to_the_executor() -> None:
    with ThreadPoolExecutor(2) as threads:
        with pytest.raises(KeyboardInterrupt):
            with ctrl_c_deferred():
                os.kill(os.getpid(), signal.SIGINT)
                futures = [threads.submit(sum, [i, 1]) for i in range(2)]
        assert [future.result() for future in futures] == [1, 2]
