"""The Docker Engine VIM driver, as one package.

Only this package imports the ``docker`` SDK (an import-linter contract keeps
it so): the rest of nubo sees the ``VimDriver`` port and this package's
``DockerVimDriver`` and ``register``. Inside, ``driver`` holds the Pop server
lifecycle, ``engine`` the connection and its error boundary, ``networks`` the
subnets and address reservations, ``events`` the event stream, ``stats`` the
resource readings and ``payloads`` the pure mapping of engine payloads.
"""

from nubo.vim.docker.driver import DockerVimDriver, register

__all__ = ["DockerVimDriver", "register"]
