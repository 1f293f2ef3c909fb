"""Tables, engines, the unit of work and migrations. Imports none of the project's packages."""
