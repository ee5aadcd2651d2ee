"""Unbound Flask extensions; `create_app` binds them."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from app.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
#: The staff workspace's sessions, forms and languages.
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
