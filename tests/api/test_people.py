"""The console's technician picker: who can be chosen, and who may ask."""

from __future__ import annotations

from typing import Any


def test_supervisors_get_active_people_for_the_technician_filter(
    app: Any, login: Any, make_user: Any
) -> None:
    from app.database import db
    from app.models.users import User

    make_user("tapio", "technician")
    gone = make_user("vanha", "technician")
    with app.app_context():
        user = db.session.get(User, gone)
        assert user is not None
        user.active = False
        db.session.commit()
    supervisor = login("supervisor")
    people = supervisor.get("/api/users/people")
    assert people.status_code == 200
    names = {p["username"]: p for p in people.json["items"]}
    assert names["tapio"]["role"] == "technician"
    assert set(names["tapio"]) == {"username", "display_name", "role"}  # no sign-in counts
    assert "vanha" not in names


def test_technicians_do_not_list_people(login: Any) -> None:
    assert login("technician").get("/api/users/people").status_code == 403
