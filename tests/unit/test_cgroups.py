"""Kernel counters of containers from a /proc and cgroup tree: v1, v2, and what is refused."""

from __future__ import annotations

from pathlib import Path

from nubo.vim.docker.cgroups import CgroupReader

CID = "4ec6c1b8ee42b1f75eed1576373b4eb3279eb0a9a91cfe3796da8ff00f0f3334"
#: /proc/<pid>/net/dev: two header lines, then per interface 8 receive and 8 send figures
NET_DEV = "Inter-|   Receive |  Transmit\n face |bytes packets ...|bytes packets ...\n" + "".join(
    f"{name:>6}: {rx} 9 0 0 0 0 0 0 {tx} 9 0 0 0 0 0 0\n"
    for name, rx, tx in [("lo", 900, 900), ("eth0", 5923, 49086), ("eth1", 77, 13)]
)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def proc_tree(tmp: Path, mountinfo: str, cgroup: str, pid: int = 2289) -> Path:
    proc = tmp / "proc"
    write(proc / "self" / "mountinfo", mountinfo)
    write(proc / "meminfo", "MemTotal:       24683772 kB\nMemFree: 1 kB\n")
    write(proc / str(pid) / "cgroup", cgroup)
    write(proc / str(pid) / "net" / "dev", NET_DEV)
    return proc


def test_cgroup_v1_with_cgroupfs_paths(tmp_path: Path) -> None:
    sys = tmp_path / "sys"
    mountinfo = (
        f"33 31 0:30 / {sys}/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
        f"35 31 0:32 / {sys}/memory rw,relatime - cgroup cgroup rw,memory\n"
        f"41 31 0:38 / {sys}/unified rw,relatime - cgroup2 cgroup2 rw\n"
    )
    cgroup = f"4:memory:/docker/{CID}\n2:cpu,cpuacct:/docker/{CID}\n0::/docker/{CID}\n"
    proc = proc_tree(tmp_path, mountinfo, cgroup)
    write(sys / "cpu,cpuacct" / "docker" / CID / "cpuacct.usage", "181740070\n")
    memory = sys / "memory" / "docker" / CID
    write(memory / "memory.usage_in_bytes", "3063808\n")
    write(memory / "memory.limit_in_bytes", "9223372036854771712\n")  # no limit
    write(memory / "memory.stat", "cache 7\nrss 1\ntotal_cache 1400832\n")
    reader = CgroupReader(proc)
    files = reader.locate(CID, 2289)
    assert files is not None and files.unified is None
    counters = reader.read(files)
    assert counters.cpu_ns == 181740070
    assert counters.memory_bytes == 3063808 - 1400832  # without the page cache
    assert counters.memory_limit_bytes == 24683772 * 1024  # no limit: the host's memory
    assert (counters.rx_bytes, counters.tx_bytes) == (5923 + 77, 49086 + 13)  # not lo
    write(memory / "memory.limit_in_bytes", "268435456\n")
    assert reader.read(files).memory_limit_bytes == 268435456


def test_cgroup_v2_with_systemd_scopes_and_a_mount_below_the_root(tmp_path: Path) -> None:
    sys = tmp_path / "sys"
    # a host whose cgroup2 mount shows the hierarchy from /system.slice down
    mountinfo = f"30 23 0:26 /system.slice {sys} rw,nosuid - cgroup2 cgroup2 rw\n"
    cgroup = f"0::/system.slice/docker-{CID}.scope\n"
    proc = proc_tree(tmp_path, mountinfo, cgroup)
    group = sys / f"docker-{CID}.scope"
    write(group / "cpu.stat", "usage_usec 5000\nuser_usec 4000\nsystem_usec 1000\n")
    write(group / "memory.current", "10000\n")
    write(group / "memory.stat", "anon 1\nfile 5\ninactive_file 4000\n")
    write(group / "memory.max", "max\n")
    reader = CgroupReader(proc)
    files = reader.locate(CID, 2289)
    assert files is not None and files.unified == group
    counters = reader.read(files)
    assert (counters.cpu_ns, counters.memory_bytes) == (5_000_000, 6000)
    assert counters.memory_limit_bytes == 24683772 * 1024
    write(group / "memory.max", "1048576\n")
    assert reader.read(files).memory_limit_bytes == 1048576


def test_a_process_that_is_not_the_container_is_refused(tmp_path: Path) -> None:
    sys = tmp_path / "sys"
    mountinfo = (
        f"33 31 0:30 / {sys}/cpuacct rw - cgroup cgroup rw,cpuacct\n"
        f"35 31 0:32 / {sys}/memory rw - cgroup cgroup rw,memory\n"
    )
    proc = proc_tree(tmp_path, mountinfo, "4:memory:/user.slice\n2:cpuacct:/user.slice\n")
    reader = CgroupReader(proc)
    assert reader.locate(CID, 2289) is None  # e.g. the pid of another host's engine
    assert reader.locate(CID, 4242) is None  # no such process here
    assert reader.locate(CID, 0) is None  # not running
    # located once, then the number given to another process: reading it fails
    write(proc / "2289" / "cgroup", f"4:memory:/docker/{CID}\n2:cpuacct:/docker/{CID}\n")
    write(sys / "cpuacct" / "docker" / CID / "cpuacct.usage", "1\n")
    memory = sys / "memory" / "docker" / CID
    write(memory / "memory.usage_in_bytes", "1\n")
    write(memory / "memory.limit_in_bytes", "2\n")
    write(memory / "memory.stat", "total_cache 0\n")
    files = reader.locate(CID, 2289)
    assert files is not None
    reader.read(files)
    write(proc / "2289" / "cgroup", "4:memory:/user.slice\n2:cpuacct:/user.slice\n")
    try:
        reader.read(files)
    except OSError as exc:
        assert "no longer the container's" in str(exc)
    else:
        raise AssertionError("a reused pid was read")


def test_a_host_without_cgroup_mounts_reads_nothing(tmp_path: Path) -> None:
    proc = proc_tree(tmp_path, "22 1 0:5 / /proc rw - proc proc rw\n", "")
    reader = CgroupReader(proc)
    assert not reader.usable
    assert reader.locate(CID, 2289) is None
