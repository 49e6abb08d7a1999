"""The liveness route that load balancers and the local cloud's launcher poll."""


def test_the_health_route_answers_ok(api):
    # When anyone asks whether the API is up
    answer = api.get("/health")

    # Then it says so, without touching any data
    assert answer.status == 200
    assert answer.body == {"status": "ok"}


def test_every_route_answers_domain_errors_itself():
    """Chalice turns a view's exception into a 500 before middleware runs: each view must translate."""
    import app as application

    views = [entry.view_function for methods in application.app.routes.values() for entry in methods.values()]
    assert views
    unguarded = [view.__name__ for view in views if not getattr(view, "answers_domain_errors", False)]
    assert unguarded == []
