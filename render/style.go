package render

import "github.com/bulkhead/bulkhead/render/table"

// Style says how text output may decorate itself: the one style of every
// command's text output, defined with the tables.
type Style = table.Style
