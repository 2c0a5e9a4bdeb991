"""GDS Transport (licensed for gov.uk domains only) is never fetched, whatever the page renders."""


def test_the_gds_transport_font_is_never_requested(visitor):
    """Text set in the family GOV.UK Frontend declares must not fetch its files (they would 404 here)."""
    v = visitor()
    requested = []
    v.page.on("request", lambda request: requested.append(request.url) if "/fonts/" in request.url else None)
    v.go("/accounts/login/")
    v.page.evaluate("""() => {
        for (const weight of ["400", "700"]) {  // text set in that family, as an unstyled element would be
            const text = document.createElement("p");
            text.textContent = "Distinction and merit";
            text.style.setProperty("font-family", "'GDS Transport', sans-serif", "important");
            text.style.fontWeight = weight;
            document.body.append(text);
        }
        return document.body.offsetHeight;  // lay it out now
    }""")
    v.page.wait_for_load_state("networkidle")

    assert requested == []
    assert v.console_errors == []
