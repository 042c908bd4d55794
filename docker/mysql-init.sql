-- The test fixtures create and drop one database per test, so the test user needs more than the one database
-- the image grants it.
GRANT ALL PRIVILEGES ON *.* TO 'test'@'%' WITH GRANT OPTION;
FLUSH PRIVILEGES;
