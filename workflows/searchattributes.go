package workflows

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// Search attributes the Web UI and `temporal workflow list` filter on. They
// hold identifiers only, never secrets or item data.
var (
	AttrOperation  = temporal.NewSearchAttributeKeyKeyword("CorsoOperation")
	AttrRepository = temporal.NewSearchAttributeKeyKeyword("CorsoRepository")
	AttrTenant     = temporal.NewSearchAttributeKeyKeyword("CorsoTenant")
	AttrService    = temporal.NewSearchAttributeKeyKeyword("CorsoService")
	AttrResource   = temporal.NewSearchAttributeKeyKeyword("CorsoResource")
	AttrBackupID   = temporal.NewSearchAttributeKeyKeyword("CorsoBackupID")
)

// SearchAttributeTypes lists the custom search attributes a namespace must
// have registered before corso workflows start.
func SearchAttributeTypes() map[string]enumspb.IndexedValueType {
	keys := []temporal.SearchAttributeKeyKeyword{
		AttrOperation, AttrRepository, AttrTenant, AttrService, AttrResource, AttrBackupID,
	}
	types := make(map[string]enumspb.IndexedValueType, len(keys))
	for _, k := range keys {
		types[k.GetName()] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}
	return types
}
