"""Users, their roles and sites, login sessions and API tokens."""
