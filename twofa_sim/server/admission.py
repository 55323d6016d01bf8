"""Who gets a page of the class, and how many kernels the server holds.

A class arrives at once: the trainer puts the address on the projector and everyone opens it in
the same second. Each page needs a kernel, and a kernel takes a second or two of CPU to start and
run the page, so thirty cold starts on a laptop's two CPUs take half a minute. The server keeps a
pool of kernels that have already run the trainee page up to the point where it needs the
request (Voila's preheated kernels), as many as the class has trainees; a page arriving takes one
and only renders. The pool is not refilled past what the class still needs (the class size minus
the pages already open, never fewer than a few spare kernels for reloads and late-comers), so
after the rush the laptop does not start thirty more.

Every kernel counts against a cap (twice the class size unless set), the trainer's dashboards
included: past it a trainee's page is refused with a page that says so, instead of the laptop
running out of memory under a script of GET requests. The trainer's dashboard is still served a
little past the cap (``trainer_reserve`` pages), so that a full class never locks the trainer
out. It is served only with the trainer's key, checked before its kernel is started, and never
when the server has no key (with a shared database that would give the dashboard to anyone).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass


@dataclass(frozen=True)
class Admission:
    """The class server's rules for pages and kernels (see the module)."""

    trainee_notebook: str = "trainee.ipynb"
    trainer_notebook: str = "trainer.ipynb"
    projector_notebook: str = "projector.ipynb"  # no name, secret or button on it: no key needed
    class_size: int = 30
    kernel_cap: int = 0  # 0: twice the class size
    spare_kernels: int = 3
    trainer_reserve: int = 2  # dashboards served past the cap

    @property
    def open_notebooks(self) -> tuple[str, str]:
        """The pages anyone with the trainees' address may open; each holds a kernel under the cap."""
        return (self.trainee_notebook, self.projector_notebook)

    def __post_init__(self) -> None:
        for name in ("class_size", "spare_kernels", "kernel_cap", "trainer_reserve"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name}: must be a whole number of 0 or more, got {value!r}")
        if self.class_size < 1:
            raise ValueError(f"class_size: must be at least 1, got {self.class_size}")

    @property
    def cap(self) -> int:
        """Kernels the server may hold for trainees' pages, pool included."""
        return self.kernel_cap or 2 * self.class_size

    def pool_at_start(self) -> int:
        return min(self.class_size, self.cap)

    def pool_target(self, trainee_pages: int, all_pages: int | None = None) -> int:
        """How many warm kernels to keep while ``trainee_pages`` trainee pages hold one: what the
        class still needs (at least the spare ones), with every page (``all_pages``: the trainee
        pages, the projector's, the dashboards) and the warm kernels within the cap."""
        wanted = max(self.spare_kernels, self.class_size - trainee_pages)
        return max(0, min(wanted, self.cap - max(trainee_pages, all_pages or 0)))

    def is_full(self, open_pages: int, *, trainer: bool = False) -> bool:
        """Whether a new page must be refused: ``open_pages`` pages of any kind already hold a
        kernel or are about to (counted when admitted, so that requests arriving together cannot
        pass the cap between them); warm kernels are kept within the cap by :meth:`pool_target`.
        The trainer's dashboard (``trainer``) is refused only ``trainer_reserve`` pages later."""
        return open_pages >= self.cap + (self.trainer_reserve if trainer else 0)

    @staticmethod
    def dashboard_refusal(given_key: str, expected_key: str) -> str | None:
        """Why the dashboard is refused (a message id), or None when the key is right. A server
        without a key refuses everyone: its database is shared by every page."""
        if not expected_key:
            return "This class server has no trainer key, so its dashboard stays closed. Start the class with make class, which makes one."
        if not hmac.compare_digest(str(given_key).encode(), expected_key.encode()):
            return "This page is for the trainer: open the address the class server printed."
        return None
