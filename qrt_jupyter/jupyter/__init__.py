"""The Jupyter layer: magics, widgets and plots over the public runtime API."""
