// Package deploy holds deployment material (the compose environment
// template) and the checks that keep docker-compose.yml loadable by the
// Compose specification's reference loader, since no Docker engine runs in
// CI.
package deploy
