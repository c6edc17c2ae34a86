package graphsim

import (
	"net/http"
	"strings"
)

// routes is the Graph surface the simulator serves. Patterns use the
// canonical forms that request.rewrite maps every accepted form onto.
func (s *Server) routes() []*route {
	const (
		ex  = "exchange"
		dr  = "drive"
		dir = "directory"
		tm  = "teams"
		gm  = "groups" // a group's mailbox
	)
	get, post, patch, del, put := http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete, http.MethodPut
	r := func(method, pattern, class, service string, h func(*request) error) *route {
		return &route{method: method, pattern: strings.Split(pattern, "/"), class: class, service: service, handle: h}
	}
	folderKinds := func(k kind) func(*request) error { return func(rq *request) error { return rq.createFolder(k) } }
	return []*route{
		// Directory.
		r(get, "users", "users.list", dir, (*request).listUsers),
		r(get, "users/{user}", "users.get", dir, (*request).getUser),
		r(get, "users/{user}/mailboxSettings", "mail.settings", ex, (*request).getMailboxSettings),
		r(get, "users/{user}/drives", "drive.list", dir, (*request).listUserDrives),
		r(get, "groups", "groups.list", dir, (*request).listGroups),
		r(get, "groups/{group}", "groups.get", dir, (*request).getGroup),
		r(get, "teams/{group}", "teams.get", dir, (*request).getTeam),
		r(get, "teams/{group}/channels", "teams.channels", tm, (*request).listChannels),
		r(get, "teams/{group}/allChannels", "teams.channels", tm, (*request).listAllChannels),
		r(get, "teams/{group}/incomingChannels", "teams.channels", tm, (*request).listIncomingChannels),
		r(get, "teams/{group}/channels/{channel}", "teams.channel", tm, (*request).getChannel),
		r(get, "teams/{group}/channels/{channel}/messages", "teams.messages", tm, (*request).listChannelMessages),
		r(post, "teams/{group}/channels", "teams.channel.create", tm, (*request).createChannel),
		r(post, "teams/{group}/channels/{channel}/startMigration", "teams.channel.startMigration", tm, (*request).startChannelMigration),
		r(post, "teams/{group}/channels/{channel}/completeMigration", "teams.channel.completeMigration", tm, (*request).completeChannelMigration),
		r(post, "teams/{group}/channels/{channel}/messages", "teams.message.create", tm, (*request).postChannelMessage),
		r(get, "teams/{group}/channels/{channel}/messages/delta", "teams.messages.delta", tm, (*request).channelMessagesDelta),
		r(get, "teams/{group}/channels/{channel}/messages/{message}", "teams.message", tm, (*request).getChannelMessage),
		r(get, "teams/{group}/channels/{channel}/messages/{message}/replies", "teams.replies", tm, (*request).listReplies),
		r(post, "teams/{group}/channels/{channel}/messages/{message}/replies", "teams.message.create", tm, (*request).postChannelMessage),
		r(get, "teams/{group}/channels/{channel}/messages/{message}/replies/{reply}", "teams.reply", tm, (*request).getReply),
		r(get, "teams/{group}/channels/{channel}/messages/{message}/hostedContents", "teams.hostedContents", tm, (*request).listHostedContents),
		r(get, "teams/{group}/channels/{channel}/messages/{message}/hostedContents/{hosted}", "teams.hostedContent", tm, (*request).getHostedContent),
		r(get, "teams/{group}/channels/{channel}/messages/{message}/hostedContents/{hosted}/$value", "teams.hostedContent.value", tm, (*request).getHostedContentValue),
		r(get, "teams/{group}/channels/{channel}/messages/{message}/replies/{reply}/hostedContents", "teams.hostedContents", tm, (*request).listHostedContents),
		r(get, "teams/{group}/channels/{channel}/messages/{message}/replies/{reply}/hostedContents/{hosted}", "teams.hostedContent", tm, (*request).getHostedContent),
		r(get, "teams/{group}/channels/{channel}/messages/{message}/replies/{reply}/hostedContents/{hosted}/$value", "teams.hostedContent.value", tm, (*request).getHostedContentValue),
		// A group's mailbox conversations (conversations_api.go).
		r(get, "groups/{group}/conversations", "groups.conversations", gm, (*request).listConversations),
		r(post, "groups/{group}/conversations", "groups.conversation.create", gm, (*request).createConversation),
		r(get, "groups/{group}/conversations/{conversation}", "groups.conversation", gm, (*request).getConversation),
		r(get, "groups/{group}/conversations/{conversation}/threads", "groups.threads", gm, (*request).listThreads),
		r(get, "groups/{group}/conversations/{conversation}/threads/{thread}", "groups.thread", gm, (*request).getThread),
		r(post, "groups/{group}/conversations/{conversation}/threads/{thread}/reply", "groups.thread.reply", gm, (*request).replyThread),
		r(get, "groups/{group}/conversations/{conversation}/threads/{thread}/posts", "groups.posts", gm, (*request).listPosts),
		r(get, "groups/{group}/conversations/{conversation}/threads/{thread}/posts/{post}", "groups.post", gm, (*request).getPost),
		r(get, "groups/{group}/threads", "groups.threads", gm, (*request).listThreads),
		r(post, "groups/{group}/threads", "groups.thread.create", gm, (*request).createThread),
		r(get, "groups/{group}/threads/{thread}", "groups.thread", gm, (*request).getThread),
		r(post, "groups/{group}/threads/{thread}/reply", "groups.thread.reply", gm, (*request).replyThread),
		r(get, "groups/{group}/threads/{thread}/posts", "groups.posts", gm, (*request).listPosts),
		r(get, "groups/{group}/threads/{thread}/posts/{post}", "groups.post", gm, (*request).getPost),
		r(get, "sites", "sites.list", dir, (*request).listSites),
		r(get, "sites/{site}", "sites.get", dir, (*request).getSite),
		r(get, "sites/{site}/drives", "drive.list", dir, (*request).listSiteDrives),

		// SharePoint lists (lists_api.go), metered as drives are.
		r(get, "sites/{site}/lists", "lists.list", dr, (*request).listLists),
		r(post, "sites/{site}/lists", "lists.create", dr, (*request).createList),
		r(get, "sites/{site}/lists/{list}", "lists.get", dr, (*request).getList),
		r(del, "sites/{site}/lists/{list}", "lists.delete", dr, (*request).deleteList),
		r(get, "sites/{site}/lists/{list}/columns", "lists.columns", dr, (*request).listColumns),
		r(get, "sites/{site}/lists/{list}/items", "lists.items", dr, (*request).listListItems),
		r(post, "sites/{site}/lists/{list}/items", "lists.item.create", dr, (*request).createListItem),
		r(get, "sites/{site}/lists/{list}/items/delta", "lists.items.delta", dr, (*request).listItemsDelta),
		r(get, "sites/{site}/lists/{list}/items/{item}", "lists.item", dr, (*request).getListItem),
		r(del, "sites/{site}/lists/{list}/items/{item}", "lists.item.delete", dr, (*request).deleteListItem),
		r(get, "sites/{site}/lists/{list}/items/{item}/fields", "lists.item.fields", dr, (*request).getListItemFields),
		r(patch, "sites/{site}/lists/{list}/items/{item}/fields", "lists.item.update", dr, (*request).patchListItemFields),
		r(get, "sites/{site}/lists/{list}/items/{item}/versions", "lists.item.versions", dr, (*request).listItemVersions),

		// Mail folders.
		r(get, "users/{user}/mailFolders", "mail.folders", ex, (*request).listMailFolders),
		r(post, "users/{user}/mailFolders", "mail.folders.create", ex, folderKinds(kMailFolder)),
		r(get, "users/{user}/mailFolders/delta", "mail.folders.delta", ex, (*request).mailFoldersDelta),
		r(get, "users/{user}/mailFolders/{folder}", "mail.folder", ex, (*request).getMailFolder),
		r(patch, "users/{user}/mailFolders/{folder}", "mail.folder.update", ex, func(rq *request) error { return rq.patchFolder(kMailFolder) }),
		r(del, "users/{user}/mailFolders/{folder}", "mail.folder.delete", ex, func(rq *request) error { return rq.deleteFolder(kMailFolder) }),
		r(post, "users/{user}/mailFolders/{folder}/move", "mail.folder.move", ex, func(rq *request) error { return rq.moveFolder(kMailFolder) }),
		r(get, "users/{user}/mailFolders/{folder}/childFolders", "mail.folders", ex, func(rq *request) error {
			return rq.listChildFolders(kMailFolder, rq.s.mailFolderObject, "mailFolder", mailFolderKnownProps)
		}),
		r(post, "users/{user}/mailFolders/{folder}/childFolders", "mail.folders.create", ex, folderKinds(kMailFolder)),

		// Messages.
		r(get, "users/{user}/mailFolders/{folder}/messages", "mail.messages", ex, (*request).listMessages),
		r(post, "users/{user}/mailFolders/{folder}/messages", "mail.message.create", ex, (*request).createMessage),
		r(get, "users/{user}/mailFolders/{folder}/messages/delta", "mail.messages.delta", ex, (*request).messagesDelta),
		r(post, "users/{user}/messages", "mail.message.create", ex, (*request).createMessage),
		r(get, "users/{user}/messages/{message}", "mail.message", ex, (*request).getMessage),
		r(patch, "users/{user}/messages/{message}", "mail.message.update", ex, func(rq *request) error { return rq.patchItem(kMessage, "message") }),
		r(del, "users/{user}/messages/{message}", "mail.message.delete", ex, func(rq *request) error { return rq.deleteItem(kMessage, "message") }),
		r(get, "users/{user}/messages/{message}/$value", "mail.message.mime", ex, (*request).getMessageMIME),
		r(post, "users/{user}/messages/{message}/move", "mail.message.move", ex, (*request).moveMessage),
		r(get, "users/{user}/messages/{message}/attachments", "mail.attachments", ex, (*request).listAttachments),
		r(post, "users/{user}/messages/{message}/attachments", "mail.attachment.create", ex, (*request).addAttachment),
		r(post, "users/{user}/messages/{message}/attachments/createUploadSession", "mail.attachment.upload", ex, (*request).createAttachmentUpload),
		r(get, "users/{user}/messages/{message}/attachments/{attachment}", "mail.attachment", ex, (*request).getAttachment),
		r(get, "users/{user}/messages/{message}/attachments/{attachment}/$value", "mail.attachment.value", ex, (*request).getAttachmentValue),

		// Contacts.
		r(get, "users/{user}/contactFolders", "contacts.folders", ex, (*request).listContactFolders),
		r(post, "users/{user}/contactFolders", "contacts.folders.create", ex, folderKinds(kContactFolder)),
		r(get, "users/{user}/contactFolders/delta", "contacts.folders.delta", ex, (*request).contactFoldersDelta),
		r(get, "users/{user}/contactFolders/{folder}", "contacts.folder", ex, (*request).getContactFolder),
		r(patch, "users/{user}/contactFolders/{folder}", "contacts.folder.update", ex, func(rq *request) error { return rq.patchFolder(kContactFolder) }),
		r(del, "users/{user}/contactFolders/{folder}", "contacts.folder.delete", ex, func(rq *request) error { return rq.deleteFolder(kContactFolder) }),
		r(get, "users/{user}/contactFolders/{folder}/childFolders", "contacts.folders", ex, func(rq *request) error {
			return rq.listChildFolders(kContactFolder, rq.s.contactFolderObject, "contactFolder", contactFolderKnownProps)
		}),
		r(post, "users/{user}/contactFolders/{folder}/childFolders", "contacts.folders.create", ex, folderKinds(kContactFolder)),
		r(get, "users/{user}/contactFolders/{folder}/contacts", "contacts.list", ex, (*request).listContacts),
		r(post, "users/{user}/contactFolders/{folder}/contacts", "contacts.create", ex, (*request).createContact),
		r(get, "users/{user}/contactFolders/{folder}/contacts/delta", "contacts.delta", ex, (*request).contactsDelta),
		r(post, "users/{user}/contacts", "contacts.create", ex, (*request).createContact),
		r(get, "users/{user}/contacts/{contact}", "contacts.get", ex, (*request).getContact),
		r(patch, "users/{user}/contacts/{contact}", "contacts.update", ex, func(rq *request) error { return rq.patchItem(kContact, "contact") }),
		r(del, "users/{user}/contacts/{contact}", "contacts.delete", ex, func(rq *request) error { return rq.deleteItem(kContact, "contact") }),

		// Calendars and events.
		r(get, "users/{user}/calendars", "calendar.list", ex, (*request).listCalendars),
		r(post, "users/{user}/calendars", "calendar.create", ex, folderKinds(kCalendar)),
		r(get, "users/{user}/calendars/{folder}", "calendar.get", ex, (*request).getCalendar),
		r(patch, "users/{user}/calendars/{folder}", "calendar.update", ex, func(rq *request) error { return rq.patchFolder(kCalendar) }),
		r(del, "users/{user}/calendars/{folder}", "calendar.delete", ex, func(rq *request) error { return rq.deleteFolder(kCalendar) }),
		r(get, "users/{user}/calendars/{folder}/events", "events.list", ex, (*request).listEvents),
		r(post, "users/{user}/calendars/{folder}/events", "events.create", ex, (*request).createEvent),
		r(get, "users/{user}/calendars/{folder}/events/delta", "events.delta", ex, (*request).eventsDelta),
		r(get, "users/{user}/calendars/{folder}/calendarView", "events.calendarView", ex, (*request).calendarView),
		r(get, "users/{user}/calendarView", "events.calendarView", ex, (*request).calendarView),
		r(get, "users/{user}/calendarView/delta", "events.calendarView.delta", ex, (*request).calendarViewDelta),
		r(get, "users/{user}/calendars/{folder}/calendarView/delta", "events.calendarView.delta", ex, (*request).calendarViewDelta),
		r(get, "users/{user}/events", "events.list", ex, (*request).listEvents),
		r(post, "users/{user}/events", "events.create", ex, (*request).createEvent),
		r(get, "users/{user}/events/{event}", "events.get", ex, (*request).getEvent),
		r(patch, "users/{user}/events/{event}", "events.update", ex, (*request).patchEvent),
		r(del, "users/{user}/events/{event}", "events.delete", ex, (*request).deleteEvent),
		r(get, "users/{user}/events/{event}/instances", "events.instances", ex, (*request).listInstances),
		r(get, "users/{user}/events/{event}/attachments", "events.attachments", ex, (*request).listAttachments),
		r(post, "users/{user}/events/{event}/attachments", "events.attachment.create", ex, (*request).addAttachment),
		r(post, "users/{user}/events/{event}/attachments/createUploadSession", "events.attachment.upload", ex, (*request).createAttachmentUpload),
		r(get, "users/{user}/events/{event}/attachments/{attachment}", "events.attachment", ex, (*request).getAttachment),
		r(get, "users/{user}/events/{event}/attachments/{attachment}/$value", "events.attachment.value", ex, (*request).getAttachmentValue),

		// Drives.
		r(get, "drives/{drive}", "drive.get", dr, (*request).getDrive),
		r(get, "drives/{drive}/items/{item}", "drive.item", dr, (*request).getDriveItem),
		r(patch, "drives/{drive}/items/{item}", "drive.item.update", dr, (*request).patchDriveItem),
		r(del, "drives/{drive}/items/{item}", "drive.item.delete", dr, (*request).deleteDriveItem),
		r(get, "drives/{drive}/items/{item}/children", "drive.children", dr, (*request).listChildren),
		r(post, "drives/{drive}/items/{item}/children", "drive.item.create", dr, (*request).createDriveChild),
		r(get, "drives/{drive}/items/{item}/delta", "drive.delta", dr, (*request).driveDelta),
		r(get, "drives/{drive}/items/{item}/content", "drive.content", dr, (*request).getContent),
		r(put, "drives/{drive}/items/{item}/content", "drive.upload", dr, (*request).putContent),
		r(post, "drives/{drive}/items/{item}/createUploadSession", "drive.uploadSession", dr, (*request).createDriveUpload),
		r(get, "drives/{drive}/items/{item}/permissions", "drive.permissions", dr, (*request).listPermissions),
		r(post, "drives/{drive}/items/{item}/invite", "drive.invite", dr, (*request).invite),
		r(post, "drives/{drive}/items/{item}/createLink", "drive.invite", dr, (*request).createLink),
		r(del, "drives/{drive}/items/{item}/permissions/{permission}", "drive.permissions", dr, (*request).deletePermission),
	}
}
