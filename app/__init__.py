"""RHPNet Coach application: Qt-free core (``app.core``) and the desktop UI (``app.ui``)."""
