package leadmesh

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strconv"
	"time"
)

// OptionsFromEnv reads the same variables as the TypeScript client and the CLI: LEADMESH_TOKEN,
// LEADMESH_<SERVICE>_ADDR, LEADMESH_TIMEOUT_MS, LEADMESH_TLS=1, LEADMESH_TLS_CA,
// LEADMESH_TLS_CERT, LEADMESH_TLS_KEY, LEADMESH_TLS_SERVER_NAME.
func OptionsFromEnv() (Options, error) {
	o := Options{
		Token: os.Getenv("LEADMESH_TOKEN"),
		Addresses: Addresses{
			Intake:  os.Getenv("LEADMESH_INTAKE_ADDR"),
			Scoring: os.Getenv("LEADMESH_SCORING_ADDR"),
			Routing: os.Getenv("LEADMESH_ROUTING_ADDR"),
			Nurture: os.Getenv("LEADMESH_NURTURE_ADDR"),
			CrmSync: os.Getenv("LEADMESH_CRM_SYNC_ADDR"),
		},
	}
	if v := os.Getenv("LEADMESH_TIMEOUT_MS"); v != "" {
		ms, err := strconv.Atoi(v)
		if err != nil || ms <= 0 {
			return o, fmt.Errorf("LEADMESH_TIMEOUT_MS must be a positive whole number of milliseconds, got %q", v)
		}
		o.Timeout = time.Duration(ms) * time.Millisecond
	}
	ca, cert, key, name := os.Getenv("LEADMESH_TLS_CA"), os.Getenv("LEADMESH_TLS_CERT"), os.Getenv("LEADMESH_TLS_KEY"), os.Getenv("LEADMESH_TLS_SERVER_NAME")
	if ca == "" && cert == "" && key == "" && name == "" && os.Getenv("LEADMESH_TLS") != "1" && os.Getenv("LEADMESH_TLS") != "true" {
		return o, nil
	}
	o.TLS = &tls.Config{ServerName: name, MinVersion: tls.VersionTLS12}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return o, fmt.Errorf("LEADMESH_TLS_CA: %w", err)
		}
		o.TLS.RootCAs = x509.NewCertPool()
		if !o.TLS.RootCAs.AppendCertsFromPEM(pem) {
			return o, fmt.Errorf("LEADMESH_TLS_CA: no PEM certificate in %s", ca)
		}
	}
	if (cert == "") != (key == "") {
		return o, fmt.Errorf("LEADMESH_TLS_CERT and LEADMESH_TLS_KEY go together: mutual TLS needs both")
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return o, fmt.Errorf("LEADMESH_TLS_CERT/LEADMESH_TLS_KEY: %w", err)
		}
		o.TLS.Certificates = []tls.Certificate{pair}
	}
	return o, nil
}
