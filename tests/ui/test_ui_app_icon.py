"""The app's identity: the window icon from assets/ renders."""

from __future__ import annotations


def test_the_app_has_its_window_icon(qapp):
    from app.ui.main import APP_ICON, create_app

    assert APP_ICON.is_file()
    icon = create_app().windowIcon()
    image = icon.pixmap(32, 32).toImage()
    assert not image.isNull()
    # The rounded dark tile fills the middle of the icon: the SVG was rendered, not left blank.
    assert image.pixelColor(16, 16).alpha() == 255
