package civil

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
)

//go:embed data/*.json
var dataFS embed.FS

// Province is a provincial unit (tỉnh or thành phố trực thuộc trung ương) in force since
// 1 July 2025. Code is the 3-digit code that opens a personal ID number, e.g. "001" Hà Nội.
type Province struct {
	Code, Name string
}

// LegacyProvince is one of the 63 provincial units before 1 July 2025. ID numbers issued
// before the merger keep its code. Successor is the code of the unit it was merged into.
type LegacyProvince struct {
	Code, Name, Successor string
}

// Commune is a commune-level unit (xã, phường or đặc khu) with its 5-digit code.
type Commune struct {
	Code, Name, ProvinceCode string
}

// Facility is an initial health-care facility (nơi đăng ký KCB ban đầu) with its
// 5-character code: a 2-digit province prefix and a 3-digit number.
type Facility struct {
	Code, Name, ProvinceCode string
}

type placesFile struct {
	Source    string `json:"source"`
	Provinces []struct {
		Code string `json:"code"`
		Name string `json:"name"`
	} `json:"provinces"`
	LegacyProvinces []struct {
		Code      string `json:"code"`
		Name      string `json:"name"`
		Successor string `json:"successor"`
	} `json:"legacy_provinces"`
	Communes []struct {
		Code         string `json:"code"`
		Name         string `json:"name"`
		ProvinceCode string `json:"province_code"`
	} `json:"communes"`
	Facilities []struct {
		Code         string `json:"code"`
		Name         string `json:"name"`
		ProvinceCode string `json:"province_code"`
		Illustrative bool   `json:"illustrative"`
	} `json:"facilities"`
}

type places struct {
	source     string
	provinces  []Province
	legacy     []LegacyProvince
	communes   []Commune
	facilities []Facility
}

// loadPlaces parses the embedded places file. The embedded data is checked by the package
// tests, so a failure here is a broken build and panics rather than silently answering
// "unknown" for every code.
var loadPlaces = sync.OnceValue(func() *places {
	p, err := parsePlaces()
	if err != nil {
		panic(fmt.Sprintf("civil: embedded data/places.json: %v", err))
	}
	return p
})

// decodeData reads an embedded data file into v, refusing fields v does not know, so
// that a misspelt key in the data fails the tests instead of being ignored.
func decodeData(name string, v any) error {
	raw, err := dataFS.ReadFile(name)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func parsePlaces() (*places, error) {
	var f placesFile
	if err := decodeData("data/places.json", &f); err != nil {
		return nil, err
	}
	p := &places{source: f.Source}
	for _, r := range f.Provinces {
		p.provinces = append(p.provinces, Province{Code: r.Code, Name: r.Name})
	}
	for _, r := range f.LegacyProvinces {
		p.legacy = append(p.legacy, LegacyProvince{Code: r.Code, Name: r.Name, Successor: r.Successor})
	}
	for _, r := range f.Communes {
		p.communes = append(p.communes, Commune{Code: r.Code, Name: r.Name, ProvinceCode: r.ProvinceCode})
	}
	for _, r := range f.Facilities {
		p.facilities = append(p.facilities, Facility{Code: r.Code, Name: r.Name, ProvinceCode: r.ProvinceCode})
	}
	slices.SortFunc(p.provinces, func(a, b Province) int { return strings.Compare(a.Code, b.Code) })
	slices.SortFunc(p.legacy, func(a, b LegacyProvince) int { return strings.Compare(a.Code, b.Code) })
	slices.SortFunc(p.communes, func(a, b Commune) int { return strings.Compare(a.Code, b.Code) })
	slices.SortFunc(p.facilities, func(a, b Facility) int { return strings.Compare(a.Code, b.Code) })
	return p, nil
}

func lookup[T any](rows []T, code string, key func(T) string) (T, bool) {
	i, ok := slices.BinarySearchFunc(rows, code, func(r T, c string) int { return strings.Compare(key(r), c) })
	if !ok {
		var zero T
		return zero, false
	}
	return rows[i], true
}

// LookupProvince returns the current (post-2025) province with the 3-digit code.
func LookupProvince(code string) (Province, bool) {
	return lookup(loadPlaces().provinces, code, func(p Province) string { return p.Code })
}

// LookupLegacyProvince returns the pre-2025 province with the 3-digit code.
func LookupLegacyProvince(code string) (LegacyProvince, bool) {
	return lookup(loadPlaces().legacy, code, func(p LegacyProvince) string { return p.Code })
}

// LookupCommune returns the commune with the 5-digit code.
func LookupCommune(code string) (Commune, bool) {
	return lookup(loadPlaces().communes, code, func(c Commune) string { return c.Code })
}

// LookupFacility returns the initial health-care facility with the 5-character code.
func LookupFacility(code string) (Facility, bool) {
	return lookup(loadPlaces().facilities, code, func(f Facility) string { return f.Code })
}

// PlacesSource names where the place data comes from, with its legal sources.
func PlacesSource() string { return loadPlaces().source }

// Provinces returns the 34 current provinces sorted by code. The slice is a copy.
func Provinces() []Province { return slices.Clone(loadPlaces().provinces) }

// LegacyProvinces returns the 63 pre-2025 provinces sorted by code. The slice is a copy.
func LegacyProvinces() []LegacyProvince { return slices.Clone(loadPlaces().legacy) }

// Communes returns the known communes sorted by code. The slice is a copy.
func Communes() []Commune { return slices.Clone(loadPlaces().communes) }

// Facilities returns the known facilities sorted by code. The slice is a copy.
func Facilities() []Facility { return slices.Clone(loadPlaces().facilities) }

// knownIDProvince reports whether code may open an ID number: a current province, or a
// pre-2025 one for numbers issued before the merger.
func knownIDProvince(code string) bool {
	if _, ok := LookupProvince(code); ok {
		return true
	}
	_, ok := LookupLegacyProvince(code)
	return ok
}
