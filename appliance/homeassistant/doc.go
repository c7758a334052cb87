// Package homeassistant makes a tinkerbox a Home Assistant device over
// MQTT, without a line of YAML: it publishes retained MQTT discovery
// configs, one JSON state and the latest snapshot, takes commands, and
// tells its availability through a last will.
//
// Topics (base is [mqtt] base_topic, by default tinkerbox/<name>; prefix is
// the discovery prefix, by default homeassistant):
//
//	<prefix>/<component>/<device id>/<entity>/config  retained discovery configs
//	<base>/availability   "online" / "offline" (retained; the last will says offline)
//	<base>/state          retained JSON: scene, printer, print_queue, pressure_hpa,
//	                      tendency_hpa, temperature_c, warning, cards, collection_usd,
//	                      motion, last_motion (null when unknown)
//	<base>/snapshot       retained JPEG of the newest spy-cam capture (the image entity)
//	<base>/cmd/scene      a scene name
//	<base>/cmd/button_a   "short", "long" or "double" (button_b likewise)
//	<base>/cmd/print      "PRESS": a new comic strip
//	<base>/cmd/snapshot   "PRESS": a spy-cam snapshot
//	<prefix>/status       Home Assistant's birth message: "online" republishes everything
//
// One state topic rather than one per entity: a change is one message,
// and a Home Assistant that (re)subscribes gets every value from one
// retained message.
//
// The broker going away never reaches the appliance: the bridge reads the
// appliance on its own goroutines and only ever pushes into a bounded
// queue, where a newer message for a topic replaces the waiting one (only
// the latest state is worth sending after an outage) and, past the caps,
// the oldest goes, counted either way. It reconnects with a doubling
// backoff, capped, on the appliance's clock, and at every connection
// publishes availability, the discovery configs and the state again, so
// entities come back after a broker restart that lost its retained
// messages.
package homeassistant
