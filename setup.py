"""Maps the bundled connectors in plugins/ to the package miniconnect_plugins."""

from setuptools import find_packages, setup

packages = find_packages(include=["miniconnect", "miniconnect.*"])
packages += ["miniconnect_plugins"] + [f"miniconnect_plugins.{p}" for p in find_packages("plugins")]
setup(packages=packages, package_dir={"miniconnect_plugins": "plugins"})
