"""The featured releases, one package each, and the app that puts them in tabs."""
