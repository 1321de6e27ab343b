package local

import (
	"bytes"
	"encoding/json"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"tiendo"
)

// bucketDistrictQuotas keeps the district quotas set by quota imports,
// which the server lays over the campaign file's when it builds the
// registry (tiendo.WithDistrictQuotas). Station quotas need no bucket of
// their own: they are part of each station's record.
var bucketDistrictQuotas = []byte("district_quotas") // district id -> quota (decimal)

// SaveQuotas records a quota import in one transaction, so that a crash
// leaves the quotas before it or after it, never half: districts' quotas
// are set over those of earlier imports, and stations, when not nil, is
// the whole registry with its new quotas, replacing the saved one.
func (db *DB) SaveQuotas(districts map[string]int64, stations []tiendo.Station) error {
	return db.update(func(w *writeTx) error {
		for id, q := range districts {
			if err := w.put(bucketDistrictQuotas, []byte(id), strconv.AppendInt(nil, q, 10)); err != nil {
				return err
			}
		}
		if stations == nil {
			return nil
		}
		return putStations(w, stations)
	})
}

// putStations replaces the saved station registry within w: the stations
// no longer in it are deleted one by one (not the bucket), so that a
// cluster's other nodes get each deletion; an unchanged station is not
// written again.
func putStations(w *writeTx, stations []tiendo.Station) error {
	keep := make(map[string][]byte, len(stations))
	for _, s := range stations {
		v, err := json.Marshal(s)
		if err != nil {
			return err
		}
		keep[s.ID] = v
	}
	b := w.Bucket(bucketStations)
	var gone [][]byte
	err := b.ForEach(func(k, v []byte) error {
		if nv, ok := keep[string(k)]; !ok {
			gone = append(gone, bytes.Clone(k))
		} else if bytes.Equal(nv, v) {
			delete(keep, string(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range gone {
		if err := w.del(bucketStations, k); err != nil {
			return err
		}
	}
	for _, s := range stations {
		if v, ok := keep[s.ID]; ok {
			if err := w.put(bucketStations, []byte(s.ID), v); err != nil {
				return err
			}
		}
	}
	return nil
}

// DistrictQuotas returns the district quotas quota imports have set, by
// district id (empty before the first).
func (db *DB) DistrictQuotas() (map[string]int64, error) {
	out := map[string]int64{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDistrictQuotas).ForEach(func(k, v []byte) error {
			q, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return err
			}
			out[string(k)] = q
			return nil
		})
	})
	return out, err
}
