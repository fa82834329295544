package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"strconv"
	"strings"
)

// checker is a group that checks its own values.
type checker interface{ check(*problems) }

// Validate checks every group that settings (a pointer to a struct, such as
// a subcommand's) embeds, and reports every bad value at once, each
// naming its flag and what was expected.
func Validate(settings any) error {
	var p problems
	eachGroup(reflect.ValueOf(settings), func(g reflect.Value) {
		if c, ok := g.Addr().Interface().(checker); ok {
			c.check(&p)
		}
	})
	return errors.Join(p.errs...)
}

// From is the configuration the shared wiring takes: the defaults, with
// every group that settings embeds in place of its defaults.
func From(settings any) Config {
	c := Defaults()
	dst := reflect.ValueOf(&c).Elem()
	eachGroup(reflect.ValueOf(settings), func(g reflect.Value) {
		if f := dst.FieldByName(g.Type().Name()); f.IsValid() && f.Type() == g.Type() {
			f.Set(g)
		}
	})
	return c
}

var pkgPath = reflect.TypeFor[Config]().PkgPath()

// eachGroup visits, outermost first, every group of this package that v
// embeds, however deep.
func eachGroup(v reflect.Value, visit func(reflect.Value)) {
	v = reflect.Indirect(v)
	if v.Kind() != reflect.Struct {
		return
	}
	if !v.CanAddr() {
		c := reflect.New(v.Type()).Elem()
		c.Set(v)
		v = c
	}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if _, embed := f.Tag.Lookup("embed"); !f.IsExported() || (!f.Anonymous && !embed) {
			continue
		}
		fv := reflect.Indirect(v.Field(i))
		if fv.Kind() != reflect.Struct {
			continue
		}
		if fv.Type().PkgPath() == pkgPath {
			visit(fv)
		}
		eachGroup(fv, visit)
	}
}

// problems collects bad values, each as "--flag: what is wrong".
type problems struct{ errs []error }

func (p *problems) bad(flagName, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("--%s: "+format, append([]any{flagName}, args...)...))
}

func (p *problems) oneOf(flagName, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	p.bad(flagName, "got %q, expected one of %s", v, strings.Join(allowed, ", "))
}

func (p *problems) hostPort(flagName, v string) {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		p.bad(flagName, "got %q, expected host:port", v)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		p.bad(flagName, "got %q, expected a port from 0 to 65535", v)
	}
}

func (p *problems) port(flagName string, n int, allowZero bool) {
	if n < 0 || n > 65535 || (n == 0 && !allowZero) {
		p.bad(flagName, "got %d, expected a port from 1 to 65535", n)
	}
}

func (p *problems) postgresURL(flagName, v string) {
	if v == "" {
		return
	}
	if u, err := url.Parse(v); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		p.bad(flagName, "expected a postgres:// URL")
	}
}

// pair wants a certificate and its key together or not at all.
func (p *problems) pair(certFlag, cert, keyFlag, key string) {
	switch {
	case cert != "" && key == "":
		p.bad(keyFlag, "required with --%s", certFlag)
	case cert == "" && key != "":
		p.bad(certFlag, "required with --%s", keyFlag)
	}
}

func (p *problems) noPlaceholder(flagName, v string) {
	if strings.Contains(v, AgencyPlaceholder) {
		p.bad(flagName, "%s is understood only in --tls-cert-file and --tls-key-file", AgencyPlaceholder)
	}
}
