package service

import "github.com/palisade-sg/palisade/internal/service/tagging"

// ResourceTags is one security group's tags.
type ResourceTags = tagging.ResourceTags

// ModifyTagsInput is a change to one security group's tags (see
// tagging.ModifyInput).
type ModifyTagsInput = tagging.ModifyInput
