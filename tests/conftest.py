pytest_plugins = [
    "tests.fixtures.nats",
    "tests.fixtures.devcluster",
    "tests.fixtures.processes",
    "tests.fixtures.postgres",
    "tests.fixtures.charts",
    "tests.fixtures.s3",
    "tests.fixtures.dns",
]
