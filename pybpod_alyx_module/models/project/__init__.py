"""The project-level hooks: exported as ``Projects``, deliberately not as ``Project``.

Why not a ``models.project.Project`` mixin
------------------------------------------
PyBpod 1.8.2 composes the project class *twice* from the same spec
``models.project.Project``:

1. ``pybpodgui_plugin.models.project.Project`` = every plugin's ``Project``
   (except PyBpod's own, still half-imported at that moment) + ``ProjectUIBusy``;
   this is the class PyBpod instantiates;
2. ``pyforms_generic_editor.models.project.Project`` = every plugin's ``Project``
   — now including class 1, which already *contains* this plugin's mixin —
   + ``GenericProject`` (used for ``isinstance`` checks only).

So a plugin's ``Project`` mixin appears in class 2 both directly and inside
class 1. Listed *after* ``pybpodgui_plugin`` it comes after its own subclass
(``(Project₁, AlyxProject, GenericProject)``), which C3 linearization accepts.
Listed *before*, it comes before its subclass (``(AlyxProject, Project₁, …)``):
no consistent method resolution order exists and PyBpod fails to start with
``TypeError: Cannot create a consistent method resolution order (MRO) for bases
Project, Project, GenericProject``. No body of the mixin can change that: the
conflict is in the bases, so any ``Project`` attribute here breaks one order.

What works in both orders
-------------------------
PyBpod composes its projects container from ``models.project.Projects`` (sic:
``pybpodgui_plugin.models.projects`` looks in each plugin's ``models.project``
module) and only once: the generic editor's ``Projects`` is composed from the
*other* spec ``models.projects.Projects``, which this plugin does not export.
So the ``Projects`` mixin below sits in front of PyBpod's ``ProjectsTreeNode`` in
either order, and every project, new or opened, passes through its
``create_project``. (A ``models.projects.Projects`` mixin would load too, but
listed after ``pybpodgui_plugin`` it lands behind PyBpod's ``create_project``,
which does not call ``super()``: its hooks would never run.)
"""

from .projects_alyx import Projects

__all__ = ["Projects"]
