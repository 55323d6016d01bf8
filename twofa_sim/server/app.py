"""The class server: Voila over ``notebooks/class`` with the class's rules (``make class``).

It is Voila itself (its pages, its preheated kernels, its culling), started by this application
so that the class's handlers (:mod:`.handlers`) stand in front of Voila's, the culler waits for a
kernel to have started (:mod:`.kernels`), the log is redacted
(:mod:`.quiet_log`), and the settings of class mode come from ``class_server.json`` beside
``voila.json`` (command-line options win, as for Voila).
"""

from __future__ import annotations

import os
import shutil
import time

from jupyter_core.utils import run_sync
from jupyter_server.services.kernels.handlers import KernelHandler
from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.web import GZipContentEncoding
from traitlets import Float, Int, Unicode
from voila.app import Voila
from voila.request_info_handler import RequestInfoSocketHandler
from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
from voila.tornado.contentshandler import VoilaContentsHandler
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler
from voila.tornado.treehandler import TornadoVoilaTreeHandler

from ..classroom.course import TRAINER_KEY_ENV
from . import quiet_log
from .admission import Admission
from .handlers import (STATE, ClassPage, KernelChannels, KernelModel, PageShutdown, RequestInfo,
                       ToTraineePage)
from .kernels import ClassKernels
from .page_keys import PageKeys

CONFIG_FILE = "class_server"  # class_server.json, read after voila.json

# Voila's handler -> the class's (None: not served at all)
REPLACED = {
    TornadoVoilaHandler: ClassPage,
    VoilaKernelWebsocketHandler: KernelChannels,
    KernelHandler: KernelModel,
    VoilaShutdownKernelHandler: PageShutdown,
    RequestInfoSocketHandler: RequestInfo,
    TornadoVoilaTreeHandler: ToTraineePage,
    VoilaContentsHandler: None,
}


class QuickGZip(GZipContentEncoding):
    """tornado's gzip of responses at level 1 instead of 6: a trainee page's files travel as about
    a third of their size either way (1.7 MB instead of 1.5 MB of 5 MB), for a third of the CPU
    (about 0.05 s per page instead of 0.12 s, on the server's only thread)."""

    GZIP_LEVEL = 1


class ClassState:
    """What the handlers share: the admission rules, the pages' keys, the trainer's key."""

    def __init__(self, admission: Admission, trainer_key: str, kernel_manager, preheat: bool,
                 disconnected_grace: float, log, *, refill_step: int = 2, quiet_seconds: float = 5.0,
                 clock=time.monotonic) -> None:
        self.admission = admission
        self.refill_step = refill_step
        self.quiet_seconds = quiet_seconds
        self.clock = clock
        self.last_arrival = float("-inf")
        self.last_refill = clock()  # the pool is filled at start
        self.disconnected_grace = disconnected_grace
        self.log = log
        self.trainer_key = trainer_key
        self.kernel_manager = kernel_manager
        self.preheat = preheat
        self.page_keys = PageKeys()

    def set_pool_size(self, notebook: str, size: int) -> None:
        """How many warm kernels Voila keeps for ``notebook`` from its next refill on."""
        pools = dict(self.kernel_manager.kernel_pools_config)
        pools[notebook] = {**pools.get(notebook, {}), "pool_size": size}
        self.kernel_manager.kernel_pools_config = pools

    def connected(self, kernel_id: str) -> bool:
        return self.kernel_manager.kernel_model(kernel_id).get("connections", 0) > 0

    async def end_if_disconnected(self, kernel_id: str) -> None:
        """Ends ``kernel_id`` if no page is connected to it (see :class:`.handlers.KernelChannels`)."""
        if kernel_id not in self.kernel_manager or self.connected(kernel_id):
            return
        self.log.info("No page came back to %s within %.0f s: ending it", kernel_id, self.disconnected_grace)
        await self.end(kernel_id)

    def replace_unconnected(self, cookies, notebook: str) -> None:
        """A browser asks for ``notebook`` again: its earlier pages of it whose script never
        connected to their kernel (reloaded before the script loaded) will never connect; their
        kernels end now instead of waiting for the idle cull (2 minutes). A page still loading in
        another tab of the same browser is one of them too (the browser sends the same cookies),
        which is rare, and that tab only needs a reload."""
        km = self.kernel_manager
        for key, kernel_id in self.page_keys.pages_in(cookies, notebook):
            if kernel_id in km and not self.connected(kernel_id):
                self.page_keys.forget(key)
                self.log.info("The browser of %s asked for its page again before it connected: ending it", kernel_id)
                IOLoop.current().spawn_callback(self.end, kernel_id)

    async def end(self, kernel_id: str) -> None:
        try:
            await self.kernel_manager.shutdown_kernel(kernel_id)
        except Exception:  # ended meanwhile (its page's "tab closed" call, the culler)
            pass
        self.page_keys.prune(self.kernel_manager.list_kernel_ids())

    def arriving(self, notebook: str) -> None:
        """A trainee page is about to take a warm kernel: no new one is started for it now. A
        kernel warming takes a CPU for a second or two, which the rest of a class arriving at
        once needs to be served; :meth:`top_up` warms the pool again once arrivals pause.

        Only a class larger than the server was sized for (more pages than ``class_size``) warms
        kernels during its rush: once the pool is nearly used up, each page past the class size
        that leaves fewer than ``refill_step`` warm kernels starts ``refill_step`` more at once
        (within what the class needs and the cap), so that the later ones of the rush find a
        kernel already warming instead of each starting a cold one, and never more than a few
        kernels warm at the same time."""
        self.last_arrival = self.clock()
        km = self.kernel_manager
        pooled = km.get_pool_size(notebook)
        left = max(0, pooled - 1)
        target = left
        if left < self.refill_step:
            self.page_keys.prune(km.list_kernel_ids())
            trainee_pages = self.page_keys.pages_of(notebook) + 1  # this page's key is issued next
            if trainee_pages > self.admission.class_size:
                wanted = self.admission.pool_target(trainee_pages, self.page_keys.pages() + 1)
                target = max(left, min(wanted, left + self.refill_step))
        self.set_pool_size(notebook, target)
        if pooled == 0 and target > 0:  # Voila refills only when it takes a kernel from the pool
            self.last_refill = self.clock()
            km.fill_if_needed(delay=0, notebook_name=notebook)

    def top_up(self) -> None:
        """Every few seconds, once no trainee page has arrived for ``quiet_seconds`` (or pages have
        kept arriving for six times that, a class coming in over minutes): warm kernels for the
        trainee page again as far as the class needs them (pages closed, kernels culled),
        ``refill_step`` at a time, so that a second wave (everyone reloading after a break) finds
        them warm too, and thirty tabs closed at once do not start thirty kernels at once."""
        now = self.clock()
        if not self.preheat or (now - self.last_arrival < self.quiet_seconds
                                and now - self.last_refill < 6 * self.quiet_seconds):
            return
        notebook, km = self.admission.trainee_notebook, self.kernel_manager
        self.page_keys.prune(km.list_kernel_ids())
        target = self.admission.pool_target(self.page_keys.pages_of(notebook), self.page_keys.pages())
        pooled = km.get_pool_size(notebook)
        self.last_refill = now
        if pooled < target:
            self.set_pool_size(notebook, min(target, pooled + self.refill_step))
            km.fill_if_needed(delay=0, notebook_name=notebook)

    def trainee_address(self, base_url: str) -> str:
        return base_url.rstrip("/") + "/voila/render/" + self.admission.trainee_notebook

    def __repr__(self) -> str:  # never the key
        return f"ClassState({self.admission!r}, {self.page_keys!r})"


class ClassServer(Voila):
    """Voila for class mode (see the module)."""

    name = "twofa-sim-class"
    description = "The class server of twofa-sim: the trainer's dashboard and the trainees' page."

    class_size = Int(30, config=True, help="Trainees expected: the warm kernels at start and the default cap.")
    kernel_cap = Int(0, config=True, help="Kernels the server may hold for trainees' pages (0: twice class_size).")
    spare_kernels = Int(3, config=True, help="Warm kernels kept once the class has arrived, for reloads.")
    disconnected_grace = Float(60.0, config=True,
                               help="Seconds a page's kernel waits for its page to reconnect before it ends.")
    refill_step = Int(2, config=True, help="Warm kernels started at a time when the pool is refilled.")
    refill_interval = Float(5.0, config=True,
                            help="Seconds between refills of the pool; none while trainee pages keep arriving.")
    trainee_notebook = Unicode("trainee.ipynb", config=True, help="The trainees' page, relative to the folder.")
    trainer_notebook = Unicode("trainer.ipynb", config=True, help="The trainer's dashboard, relative to the folder.")

    aliases = {**Voila.aliases, "class-size": "ClassServer.class_size", "kernel-cap": "ClassServer.kernel_cap",
               "spare-kernels": "ClassServer.spare_kernels"}

    def load_config_file(self, filename, path=None):
        super().load_config_file(filename, path=path)
        if filename == "voila":  # class mode's own settings over the app's (and the command line over both)
            super().load_config_file(CONFIG_FILE, path=path)

    def initialize(self, argv=None):
        super().initialize(argv)
        self.voila_configuration.multi_kernel_manager_class = ClassKernels
        self.admission = Admission(trainee_notebook=self.trainee_notebook, trainer_notebook=self.trainer_notebook,
                                   class_size=self.class_size, kernel_cap=self.kernel_cap,
                                   spare_kernels=self.spare_kernels)
        if self.voila_configuration.preheat_kernel:  # warm kernels for the trainee page only, as many as the class
            pools = {"default": {"pool_size": 0},
                     self.trainee_notebook: {"pool_size": self.admission.pool_at_start()}}
            self.config.VoilaKernelManager.kernel_pools_config = pools
        self.redaction = quiet_log.Redaction()
        quiet_log.install(self.redaction, self.log)

    def init_settings(self):
        settings = super().init_settings()
        key = os.environ.get(TRAINER_KEY_ENV, "")
        if not key:
            self.log.warning("%s is not set: the trainer's dashboard stays closed (make class sets it).",
                             TRAINER_KEY_ENV)
        settings[STATE] = ClassState(self.admission, key, self.kernel_manager,
                                     self.voila_configuration.preheat_kernel, self.disconnected_grace, self.log,
                                     refill_step=self.refill_step, quiet_seconds=self.refill_interval)
        settings["log_function"] = quiet_log.log_request
        # A page loads about 5 MB of Voila's front end, uncompressed unless tornado is told to
        # compress (Voila's own tornado_settings come too late for that: they are applied after
        # the application is built, and tornado picks its output transforms when it is built).
        settings["transforms"] = [QuickGZip]
        PeriodicCallback(settings[STATE].top_up, 1000 * self.refill_interval).start()
        return settings

    def init_handlers(self):
        handlers = []
        for pattern, handler, *options in super().init_handlers():
            handler = REPLACED.get(handler, handler)
            if handler is not None:
                handlers.append((pattern, handler, *options))
        return handlers

    def start(self):
        quiet_log.install(self.redaction, self.log)  # handlers added since initialize
        super().start()

    def stop(self):
        """Ending the class ends every kernel at once, without asking it first. A warm kernel is in
        the middle of running the page (it waits there for its request), and a kernel asked to shut
        down in the middle of a run writes a traceback to the trainer's terminal when the run's
        reply finds its channel closed. Nothing a kernel holds is lost: the class is in its database,
        whose transactions a killed process leaves as they were before it."""
        shutil.rmtree(self.connection_dir, ignore_errors=True)
        run_sync(self.kernel_manager.shutdown_all)(now=True)


main = ClassServer.launch_instance
