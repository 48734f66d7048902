"""The class hub's parts that need no hub: cgroup limits on a fake cgroup tree, the exchange
check, the class list and the settings. (The rehearsal with a real hub is tests/test_hub.py.)"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from data_fixtures import world_dir

from course_utils.hub.accounts import read_class_list
from course_utils.hub.exchange import check_exchange, nbgrader_settings
from course_utils.hub.limits import Cgroups, Limits, LimitsUnavailable
from course_utils.hub.settings import ClassList, HubSettings

GIB = 2**30


def _v1_tree(fs: Path, own_memory: str = "jobs/42") -> Path:
    """A cgroup v1 layout: memory and cpu hierarchies; the hub in ``own_memory``."""
    for controller in ("memory", "cpu"):
        (fs / controller).mkdir(parents=True)
        (fs / controller / "cgroup.procs").write_text("")
    (fs / "memory" / own_memory).mkdir(parents=True)
    self_cgroup = fs / "self-cgroup"
    self_cgroup.write_text(f"4:memory:/{own_memory}\n1:cpu:/\n0::/\n")
    return self_cgroup


def test_v1_limits_are_written_below_the_hubs_own_cgroup(tmp_path):
    fs = tmp_path / "cg"
    cgroups = Cgroups("hubtest", fs, _v1_tree(fs))
    made = cgroups.for_user("ada", Limits(memory_bytes=6 * GIB, cpus=1.5))
    memory, cpu = made.folders
    assert memory == fs / "memory" / "jobs" / "42" / "hubtest" / "ada"
    assert cpu == fs / "cpu" / "hubtest" / "ada"
    assert (memory / "memory.limit_in_bytes").read_text() == str(6 * GIB)
    assert (cpu / "cpu.cfs_quota_us").read_text() == "150000"
    assert (cpu / "cpu.cfs_period_us").read_text() == "100000"
    assert made.version == "v1"
    (memory / "memory.max_usage_in_bytes").write_text("12345\n")
    assert made.peak_memory() == 12345


def test_group_folders_go_once_empty(tmp_path):
    fs = tmp_path / "cg"
    cgroups = Cgroups("hubtest", fs, _v1_tree(fs))
    made = cgroups.for_user("ada", Limits(GIB, 1))
    assert cgroups.existing("ada") == made
    cgroups.remove_group()  # a user's cgroup is still there: kept
    assert all(f.parent.is_dir() for f in made.folders)
    for folder in made.folders:  # (a real cgroup's control files go with rmdir)
        shutil.rmtree(folder)
    cgroups.remove_group()
    assert not any(f.parent.exists() for f in made.folders)
    assert cgroups.existing("ada") is None


def test_v1_join_moves_the_process_into_every_hierarchy(tmp_path):
    fs = tmp_path / "cg"
    made = Cgroups("hubtest", fs, _v1_tree(fs)).for_user("ada", Limits(cpus=1))
    made.join()
    for folder in made.folders:
        assert (folder / "cgroup.procs").read_text() == str(os.getpid())
    assert made.pids() == {os.getpid()}


def test_v2_enables_controllers_and_writes_max_files(tmp_path):
    fs = tmp_path / "cg"
    own = fs / "system.slice" / "hub.service"
    own.mkdir(parents=True)
    (fs / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (own / "cgroup.controllers").write_text("cpu memory pids\n")
    (own / "cgroup.subtree_control").write_text("")
    (own / "cgroup.procs").write_text("")
    (fs / "self").write_text("0::/system.slice/hub.service\n")
    group = own / "hubtest"
    group.mkdir()
    (group / "cgroup.subtree_control").write_text("")
    made = Cgroups("hubtest", fs, fs / "self").for_user("ada", Limits(4 * GIB, 2))
    assert made.version == "v2" and made.folders == [group / "ada"]
    assert (own / "cgroup.subtree_control").read_text() == "+cpu +memory"
    assert (group / "ada" / "memory.max").read_text() == str(4 * GIB)
    assert (group / "ada" / "cpu.max").read_text() == "200000 100000"


def test_v2_without_delegated_controllers_says_how_to_get_them(tmp_path):
    fs = tmp_path / "cg"
    fs.mkdir()
    (fs / "cgroup.controllers").write_text("cpu memory\n")
    (fs / "user.slice").mkdir()
    (fs / "user.slice" / "cgroup.controllers").write_text("pids\n")
    (fs / "self").write_text("0::/user.slice\n")
    with pytest.raises(LimitsUnavailable, match="Delegate=yes"):
        Cgroups("hubtest", fs, fs / "self").for_user("ada", Limits(GIB, 1))


def test_no_cgroup_file_system_is_reported_not_crashed(tmp_path):
    with pytest.raises(LimitsUnavailable, match="no cgroup file system"):
        Cgroups("hubtest", tmp_path, tmp_path / "self").for_user("ada", Limits(GIB))
    with pytest.raises(ValueError):
        Cgroups("hubtest", tmp_path).for_user("../etc", Limits(GIB))


def test_limits_describe_themselves():
    assert Limits(6 * GIB, 1).describe() == "memory 6.0 GiB, CPU 1 core"
    assert Limits(None, 2).describe() == "CPU 2 cores"
    assert Limits().describe() == "no limits"


def _exchange(tmp_path: Path, mode: int, inbound: int = 0o2733) -> Path:
    root = tmp_path / "exchange"
    (root / "course" / "inbound").mkdir(parents=True)
    (root / "course" / "outbound").mkdir()
    os.chmod(root, mode)
    os.chmod(root / "course" / "inbound", inbound)
    os.chmod(root / "course" / "outbound", 0o755)
    return root


def test_exchange_as_nbgrader_documents_it_is_fine(tmp_path):
    assert check_exchange(_exchange(tmp_path, 0o1777), "course") == []


def test_exchange_that_attendees_cannot_write_fails_with_the_fix(tmp_path):
    root = _exchange(tmp_path, 0o755)
    [finding] = check_exchange(root, "course")
    assert finding.severe and "0755" in finding.detail
    assert finding.fix == f"sudo chmod 1777 {root}"


def test_exchange_without_sticky_bit_or_with_listable_inbound_warns(tmp_path):
    root = _exchange(tmp_path, 0o777, inbound=0o2777)
    found = check_exchange(root, "course")
    assert [f.severe for f in found] == [False, False]
    assert "sticky" in found[0].detail and found[0].fix == f"sudo chmod +t {root}"
    assert "list each other's submissions" in found[1].detail
    assert found[1].fix == f"sudo chmod 2733 {root / 'course' / 'inbound'}"


def test_missing_exchange_says_how_to_make_it(tmp_path):
    [finding] = check_exchange(tmp_path / "nowhere")
    assert finding.severe and finding.fix.endswith(f"chmod 1777 {tmp_path / 'nowhere'}")


def test_exchange_settings_come_from_the_jupyter_config_path(tmp_path, monkeypatch):
    config = tmp_path / "jupyter"
    config.mkdir()
    (config / "nbgrader_config.py").write_text(
        "c = get_config()\nc.Exchange.root = '/srv/x/exchange'\n"
        "c.CourseDirectory.course_id = 'bio101'\n")
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(config))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "home-config"))
    found = nbgrader_settings(cwd=tmp_path)
    assert found is not None
    assert (found.root, found.course_id) == (Path("/srv/x/exchange"), "bio101")
    assert found.source == str(config / "nbgrader_config.py")


def test_class_list_names_the_bad_line(tmp_path):
    good = tmp_path / "class.txt"
    good.write_text("# workshop\nada\nalan_t  # late\n\ngrace-h\n")
    assert read_class_list(good) == ["ada", "alan_t", "grace-h"]
    bad = tmp_path / "bad.txt"
    bad.write_text("ada\nAlan Turing\n")
    with pytest.raises(ValueError, match=r"bad.txt:2: 'Alan Turing' is not a valid"):
        read_class_list(bad)
    bad.write_text("ada\nada\n")
    with pytest.raises(ValueError, match="listed twice"):
        read_class_list(bad)


def test_settings_and_class_file_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_HUB_ROOT", str(tmp_path))
    monkeypatch.setenv("COURSE_HUB_PORT", "8123")
    settings = HubSettings()
    assert settings.exchange == tmp_path / "exchange" and settings.url().endswith(":8123")
    assert settings.ip == "127.0.0.1"
    with pytest.raises(FileNotFoundError, match="course_utils.hub.accounts add"):
        ClassList.read(settings.class_file)
    ClassList("prof", ("ada", "alan")).write(settings.class_file)
    assert ClassList.read(settings.class_file).everyone == ("prof", "ada", "alan")


def test_preflight_names_the_folder_that_hides_the_python():
    from course_utils.hub import preflight

    with world_dir() as world:
        private = world / "root-home"
        python = private / "pyenv" / "bin" / "python3"
        python.parent.mkdir(parents=True)
        python.write_text("")
        private.chmod(0o700)
        assert preflight.closed_folders(python) == [private]
        venv = world / "venv"
        (venv / "bin").mkdir(parents=True)
        (venv / "bin" / "python").symlink_to(python)
        found = preflight.problems(HubSettings(root=world, venv=venv))
        assert any(f"{private} is closed to other users (mode 0700)" in p
                   and f"chmod o+x {private}" in p for p in found), found
        assert any("jupyterhub-singleuser is missing" in p for p in found), found
        private.chmod(0o755)
        assert preflight.closed_folders(python) == []
