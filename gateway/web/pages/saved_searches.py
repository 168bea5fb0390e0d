"""Saved searches: a user names the search on screen and finds it again on the search
page. What is kept is the query string of the shareable URL, cleaned through
:class:`DocumentFilters`, so a saved search can never hold more than a URL could."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from gateway.store.models_users import SavedSearch
from gateway.store.search import DocumentFilters
from gateway.web.pages.access import READERS, allow, rt

bp = Blueprint("console_saved", __name__)
MAX_PER_USER = 100


def saved_searches() -> list[dict]:
    """The signed-in user's saved searches, by name, each with its URL."""
    with rt().session() as s:
        rows = s.scalars(select(SavedSearch).where(SavedSearch.user_id == current_user.id).order_by(SavedSearch.name))
        return [{"id": r.id, "name": r.name, "url": url_for("console_search.search") + "?" + r.query} for r in rows]


@bp.post("/search/saved")
@allow(*READERS)
def save():
    name = (request.form.get("name") or "").strip()[:80]
    filters = DocumentFilters.from_args(dict(parse_qsl(request.form.get("query", ""))))
    query = urlencode(filters.as_args())
    if not name:
        flash("Give the search a name to save it.", "error")
        return redirect(url_for("console_search.search") + "?" + query), 303
    with rt().session() as s:
        mine = select(SavedSearch).where(SavedSearch.user_id == current_user.id)
        existing = s.scalar(mine.where(SavedSearch.name == name))
        if existing is not None:
            existing.query = query  # saving under a name in use replaces it
        elif len(s.scalars(mine).all()) >= MAX_PER_USER:
            flash(f"You have {MAX_PER_USER} saved searches; delete one first.", "error")
            return redirect(url_for("console_search.search") + "?" + query), 303
        else:
            s.add(SavedSearch(user_id=current_user.id, name=name, query=query))
    flash(f"Saved as “{name}”.", "info")
    return redirect(url_for("console_search.search") + "?" + query), 303


@bp.post("/search/saved/<int:search_id>/delete")
@allow(*READERS)
def delete(search_id: int):
    with rt().session() as s:
        row = s.get(SavedSearch, search_id)
        if row is not None and row.user_id == current_user.id:  # only one's own
            s.delete(row)
            flash(f"Deleted “{row.name}”.", "info")
    return redirect(url_for("console_search.search")), 303
