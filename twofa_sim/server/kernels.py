"""The class server's kernels: jupyter_server's own, except that the idle cull leaves a kernel
alone until its start has finished.

jupyter_server marks a kernel's activity only once its start returns, but the kernel is listed
a moment earlier; a cull that falls in between reads a ``last_activity`` that is not set yet and
logs a traceback on the trainer's terminal (the race of jupyter/notebook#5345, still there in
jupyter_server 2.21 as a ``TraitError``). Warm kernels start every few seconds during a class,
so a 15-second cull meets one now and then. A kernel still starting is not idle: skipping it is
what the cull means. A kernel that ended between the cull's listing and its check is skipped too.
"""

from __future__ import annotations

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager


class ClassKernels(AsyncMappingKernelManager):
    """The kernels of a class server (Voila's pools are built on top of this class)."""

    async def cull_kernel_if_idle(self, kernel_id: str):
        if kernel_id not in self or not self.get_kernel(kernel_id).trait_has_value("last_activity"):
            return None  # ended meanwhile, or its start has not finished
        return await super().cull_kernel_if_idle(kernel_id)
