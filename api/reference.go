package api

import (
	"context"

	"github.com/lienthong/lienthong/civil"
	enginev1 "github.com/lienthong/lienthong/proto/lienthong/engine/v1"
)

type referenceService struct {
	enginev1.UnimplementedReferenceServiceServer
}

func (referenceService) ListPlaces(context.Context, *enginev1.ListPlacesRequest) (*enginev1.ListPlacesResponse, error) {
	resp := &enginev1.ListPlacesResponse{Source: civil.PlacesSource()}
	for _, p := range civil.Provinces() {
		resp.Provinces = append(resp.Provinces, &enginev1.Province{Code: p.Code, Name: p.Name})
	}
	for _, c := range civil.Communes() {
		resp.Communes = append(resp.Communes, &enginev1.Commune{Code: c.Code, Name: c.Name, ProvinceCode: c.ProvinceCode})
	}
	for _, f := range civil.Facilities() {
		resp.Facilities = append(resp.Facilities, &enginev1.Facility{Code: f.Code, Name: f.Name, ProvinceCode: f.ProvinceCode})
	}
	return resp, nil
}
