"""What makes alyx-local answer like the canonical cortex-lab Alyx as labs deploy it.

The plugin must work on the Alyx that labs run (cortex-lab Alyx 3.6.1, its docker deploy
settings), and alyx-local, the server the tests can install, differs from it in a few ways
that matter for registering sessions exactly once. Each one is reproduced here and checked by
``tests/test_alyx_server_canonical.py``:

- ``GET /sessions?subject=m001`` also lists ``M001``'s sessions: the canonical filter is
  ``subject__nickname__iexact``; alyx-local's matches exactly (a comma-separated list).
- A second session with the same (subject, date, number) is accepted (201): alyx-local
  refuses it with 500 (a check in ``Session.save`` and a unique ``name`` column, which is
  ``<nickname>/<date>/<number>`` and so also collides for two labs' twins).
- Throttles as the canonical deploy settings have them (``alyx.throttling``, which
  alyx-local lacks): ``burst`` per user (per client address when anonymous), counted per
  gunicorn worker because the cache is each process's own memory.

The time zone (``Europe/London``, ``USE_TZ = False``) is plain settings, in
``custom_settings`` and ``alyx_local_settings``. Django loads :class:`CanonicalServer` as an
app (``alyx_local_settings.INSTALLED_APPS``); :func:`drop_unique_session_names` changes the
schema once, after ``migrate``, before the seed is cached.
"""

from django.apps import AppConfig
from django.core.exceptions import ValidationError
from django.db import connection
from rest_framework.throttling import UserRateThrottle

#: alyx-local's refusal of a (subject, date, number) already taken.
TAKEN_NUMBER = "Two session with same subject, date and number cannot exist"
SESSION_TABLE = "actions_session"


class BurstRateThrottle(UserRateThrottle):
    """The canonical ``alyx.throttling.BurstRateThrottle`` (its user-based mode)."""

    scope = "burst"


class SustainedRateThrottle(UserRateThrottle):
    """The canonical ``alyx.throttling.SustainedRateThrottle``: no rate unless one is set."""

    scope = "sustained"


class CanonicalServer(AppConfig):
    """Swaps in the canonical behaviours once every app (and alyx's models) is loaded."""

    name = "canonical_server"
    label = "canonical_server"

    def ready(self) -> None:
        from alyx.actions.models import Session

        _filter_sessions_by_subject_case_insensitively()
        Session._meta.get_field("name")._unique = False  # no UniqueValidator on it either
        Session.save = _accepting_taken_numbers(Session)


def _filter_sessions_by_subject_case_insensitively() -> None:
    from alyx.actions.filters import SessionFilter
    from django_filters import CharFilter

    # Each request's filter set deep-copies base_filters, so this reaches every request.
    SessionFilter.base_filters["subject"] = CharFilter(
        field_name="subject__nickname", lookup_expr="iexact"
    )


def _accepting_taken_numbers(session_model):
    """``Session.save`` that, where alyx-local refuses a taken number, saves the session anyway.

    alyx-local raises before writing, after it has filled in the lab, project and data
    repository; what it would still have done is finished here, as it does it.
    """
    alyx_local_save = session_model.save

    def save(session, *args, **kwargs):
        before = session_model.objects.filter(id=session.id).first()
        try:
            return alyx_local_save(session, *args, **kwargs)
        except ValidationError as error:
            if error.messages != [TAKEN_NUMBER]:
                raise
        session.name = session.alias
        session.update_json_whiskers_from_narrative()
        super(session_model, session).save(*args, **kwargs)
        if before is not None and session.alias != before.alias:
            for dataset in session.data_dataset_session_related.all():
                dataset.save()  # datasets keep their session's name in their paths

    return save


def drop_unique_session_names() -> list[str]:
    """Drop the unique constraint on session names (idempotent); the names of those dropped."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, SESSION_TABLE)
        dropped = [
            name
            for name, spec in constraints.items()
            if spec["unique"] and not spec["primary_key"] and spec["columns"] == ["name"]
        ]
        for name in dropped:
            cursor.execute(f'ALTER TABLE {SESSION_TABLE} DROP CONSTRAINT "{name}"')
    return dropped
