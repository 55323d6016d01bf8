"""Class mode: a whole class enrols with real authenticator apps against one shared back office.

The trainer creates the class (:mod:`.roster`: usernames and generated passwords), follows every
trainee's progress (:mod:`.progress`, derived from the shared state and event log only) and acts
on the shared state (:mod:`.course`). Every page opens the back office in one place,
:func:`~twofa_sim.classroom.course.open_class`.
"""

from .course import Classroom, class_db_url, open_class
from .progress import Progress, TraineeStatus, class_progress
from .roster import Roster, Trainee, generate_password

__all__ = ["Classroom", "open_class", "class_db_url", "Progress", "TraineeStatus", "class_progress",
           "Roster", "Trainee", "generate_password"]
