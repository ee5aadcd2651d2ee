"""Unbound Flask extensions; `create_app` binds them."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from app.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
