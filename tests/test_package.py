"""The package's metadata: one version, a typed marker, a license file."""

from importlib import metadata
from pathlib import Path

import occontrol


def test_version_comes_from_the_distribution_metadata():
    assert occontrol.__version__ == metadata.version("occontrol")


def test_package_ships_its_type_marker():
    assert (Path(occontrol.__file__).parent / "py.typed").is_file()


def test_declared_license_has_its_file():
    root = Path(__file__).resolve().parents[1]
    license_text = (root / "LICENSE").read_text()
    declared = metadata.metadata("occontrol")["License"]
    assert declared == "MIT" and license_text.startswith("MIT License")
