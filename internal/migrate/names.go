package migrate

import (
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// relKey names a table the way the linter tracks it: unqualified names and
// names in "public" are the same table, as with the default search_path.
func relKey(rv *pg_query.RangeVar) string {
	if s := rv.GetSchemaname(); s != "" && s != "public" {
		return s + "." + rv.GetRelname()
	}
	return rv.GetRelname()
}

// nameKey is relKey for a dotted name list such as DROP TABLE's objects.
func nameKey(n *pg_query.Node) string {
	var parts []string
	for _, item := range n.GetList().GetItems() {
		parts = append(parts, item.GetString_().GetSval())
	}
	if len(parts) == 2 && parts[0] == "public" {
		parts = parts[1:]
	}
	return strings.Join(parts, ".")
}

// quote renders a name for a message: "orders", "orders"."note".
func quote(name string) string {
	return strconv.Quote(name)
}

// column renders table.column for a message.
func column(table, col string) string {
	return quote(table) + "." + quote(col)
}

// funcName is the last part of a function call's name, the part that says
// what it computes whatever schema holds it.
func funcName(fc *pg_query.FuncCall) string {
	names := fc.GetFuncname()
	if len(names) == 0 {
		return ""
	}
	return names[len(names)-1].GetString_().GetSval()
}

// typeName is the last part of a type's name ("int4", "bigserial").
func typeName(tn *pg_query.TypeName) string {
	names := tn.GetNames()
	if len(names) == 0 {
		return ""
	}
	return names[len(names)-1].GetString_().GetSval()
}

// walk calls visit on every message of the parse tree under n, depth first,
// using the protobuf reflection of the generated tree so that no node kind
// is missed.
func walk(n *pg_query.Node, visit func(protoreflect.ProtoMessage)) {
	if n == nil {
		return
	}
	walkMessage(n.ProtoReflect(), visit)
}

func walkMessage(m protoreflect.Message, visit func(protoreflect.ProtoMessage)) {
	visit(m.Interface())
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			list := v.List()
			for i := 0; i < list.Len(); i++ {
				walkMessage(list.Get(i).Message(), visit)
			}
		case fd.Message() != nil && !fd.IsMap():
			walkMessage(v.Message(), visit)
		}
		return true
	})
}
