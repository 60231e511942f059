"""The web server's entry point: ``streamlit run serve.py`` (what scripts/run_app.sh does).

It runs ``app.py`` (the router) through Streamlit's public ASGI ``st.App`` so that
downloads can be served uncompressed (see ``ui/server.py``). ``streamlit run app.py``
also works, with gzip-compressed downloads.
"""

from starlette.middleware import Middleware
from streamlit.starlette import App

from ui.server import NoGzipForDownloads

app = App("app.py", middleware=[Middleware(NoGzipForDownloads)])
