"""byway-hello: an example third-party Byway plugin (greetings)."""
