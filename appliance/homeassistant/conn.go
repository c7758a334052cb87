package homeassistant

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	// paho.mqtt.golang rather than paho.golang: Home Assistant and every
	// broker makers run speak MQTT 3.1.1, and this client is the long
	// established one, small, with last will and TLS. Its own reconnection
	// and store are off: the bridge reconnects on the appliance's clock,
	// with its own backoff, and keeps what waits in its own bounded queue,
	// so paho never holds a message the bridge does not count.
	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// conn is one connection to the broker.
type conn struct {
	c    mqtt.Client
	lost chan error
}

// connect makes a new client (paho's are not meant to be reused once
// disconnected), connects it and subscribes to the command topics, Home
// Assistant's status and this device's own discovery configs.
func (b *Bridge) connect(ctx context.Context) (*conn, error) {
	o := mqtt.NewClientOptions()
	o.AddBroker(b.server)
	o.SetClientID(b.o.Device.ID)
	o.SetUsername(b.o.User)
	pw, err := b.password()
	if err != nil {
		return nil, err
	}
	o.SetPassword(pw)
	if strings.HasPrefix(b.server, "ssl://") {
		tc, err := b.tlsConfig()
		if err != nil {
			return nil, err
		}
		o.SetTLSConfig(tc)
	}
	o.SetProtocolVersion(4) // 3.1.1, without paho's fallback to 3.1 on a refusal
	o.SetCleanSession(true)
	o.SetAutoReconnect(false)
	o.SetConnectRetry(false)
	o.SetKeepAlive(b.o.KeepAlive)
	o.SetPingTimeout(max(b.o.KeepAlive/2, time.Second))
	o.SetConnectTimeout(b.o.ConnectTimeout)
	o.SetWriteTimeout(b.o.PublishTimeout)
	o.SetDialer(&net.Dialer{Timeout: b.o.ConnectTimeout})
	o.SetOrderMatters(true) // commands run in the order sent; the handlers never block
	o.SetWill(b.topics.availability(), payloadOffline, 1, true)
	c := &conn{lost: make(chan error, 1)}
	o.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		select {
		case c.lost <- err:
		default:
		}
	})
	c.c = mqtt.NewClient(o)
	tok := c.c.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		go func() { // it may still connect: do not leave it so
			<-tok.Done()
			c.c.Disconnect(0)
		}()
		return nil, ctx.Err()
	}
	if err := tok.Error(); err != nil {
		return nil, fmt.Errorf("connect to %s: %w", b.o.Broker, err)
	}
	own := b.ownTopics()
	b.mu.Lock()
	b.current = own
	b.mu.Unlock()
	for filter, h := range map[string]mqtt.MessageHandler{
		b.topics.commands():   b.onCommand,
		b.topics.haStatus():   b.onHAStatus,
		b.topics.ownConfigs(): b.onOwnConfig,
	} {
		if err := c.wait(c.c.Subscribe(filter, 1, h), b.o.PublishTimeout); err != nil {
			c.close()
			return nil, fmt.Errorf("subscribe %s: %w", filter, err)
		}
	}
	return c, nil
}

// publish sends m with QoS 1 and waits for the broker's acknowledgement.
func (c *conn) publish(m message, timeout time.Duration) error {
	if err := c.wait(c.c.Publish(m.topic, 1, m.retain, m.payload), timeout); err != nil {
		return fmt.Errorf("publish %s: %w", m.topic, err)
	}
	return nil
}

var errTimeout = errors.New("the broker did not answer")

func (c *conn) wait(tok mqtt.Token, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-tok.Done():
		return tok.Error()
	case err := <-c.lost:
		c.lost <- err // for serve to see too
		return fmt.Errorf("connection lost: %w", err)
	case <-t.C:
		return errTimeout
	}
}

// goodbye says offline (a clean disconnect does not fire the last will),
// then disconnects.
func (c *conn) goodbye(availability string, timeout time.Duration) {
	c.publish(message{availability, []byte(payloadOffline), true}, min(timeout, time.Second))
	c.c.Disconnect(250)
}

func (c *conn) close() { c.c.Disconnect(0) }

// password is Password, or the first line of PasswordFile.
func (b *Bridge) password() (string, error) {
	if b.o.PasswordFile == "" {
		return b.o.Password, nil
	}
	f, err := os.Open(b.o.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("password_file: %w", err)
	}
	defer f.Close()
	line, err := bufio.NewReader(io.LimitReader(f, 4<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("password_file: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// tlsConfig checks the broker against CAFile, or the system's roots.
func (b *Bridge) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if b.o.CAFile == "" {
		return tc, nil
	}
	pem, err := os.ReadFile(b.o.CAFile)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	tc.RootCAs = x509.NewCertPool()
	if !tc.RootCAs.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s: no PEM certificate in it", b.o.CAFile)
	}
	return tc, nil
}

func joinHostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
